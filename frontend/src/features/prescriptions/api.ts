import {
  keepPreviousData,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import { api } from '../../api/client';
import type {
  CheckResult,
  MedicationList,
  Pharmacy,
  PharmacyInbox,
  PharmacyList,
  PreferredPharmacy,
  Prescription,
  PrescriptionCreate,
  PrescriptionList,
  PrescriptionStatus,
  Reauth,
  VerifyResult,
  Vocabulary,
} from './types';
import { useDebouncedValue } from './useDebouncedValue';

/** Query keys of the prescriptions feature (kept here until the API types are generated). */
export const prescriptionKeys = {
  /** Prefix of every prescriptions query (refetched when a prescription card arrives). */
  all: ['prescriptions'] as const,
  lists: ['prescriptions', 'list'] as const,
  list: (patientId: string | null, status: string) =>
    ['prescriptions', 'list', patientId ?? 'me', status] as const,
  detail: (id: string) => ['prescriptions', 'detail', id] as const,
  check: (patientId: string, medications: string) =>
    ['prescriptions', 'check', patientId, medications] as const,
  vocabulary: ['prescription-vocabulary'] as const,
  medications: (query: string) => ['medications', query] as const,
  pharmacies: (query: string, city: string) => ['pharmacies', 'list', query, city] as const,
  preferred: (patientId: string | null) => ['pharmacies', 'preferred', patientId ?? 'me'] as const,
  verify: (code: string) => ['prescription-verify', code] as const,
  inbox: (token: string) => ['pharmacy-inbox', token] as const,
};

/** How long typing settles before a search or a safety check is sent. */
export const SEARCH_DEBOUNCE_MS = 250;
export const CHECK_DEBOUNCE_MS = 400;
export const MIN_SEARCH_LENGTH = 2;

const enc = encodeURIComponent;
export const prescriptionPath = (id: string) => `/api/prescriptions/${enc(id)}/`;

/** `path` with `?patient=` when acting for someone (family members name the patient). */
export function withPatient(path: string, patientId: string | null | undefined): string {
  if (!patientId) return path;
  const joiner = path.includes('?') ? '&' : '?';
  return `${path}${joiner}${new URLSearchParams({ patient: patientId }).toString()}`;
}

/** The printable PDF (with the verification code). */
export function prescriptionPdfUrl(prescription: { id: string; pdf_url?: string }): string {
  return prescription.pdf_url || `${prescriptionPath(prescription.id)}pdf/`;
}

function looksLikePrescription(value: unknown): value is Prescription {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as Prescription).id === 'string' &&
    Array.isArray((value as Prescription).items)
  );
}

/** The server's newest word on a prescription: into the cache; everything else refetches. */
function storePrescription(queryClient: QueryClient, answer: unknown, id?: string) {
  if (looksLikePrescription(answer)) {
    queryClient.setQueryData(prescriptionKeys.detail(answer.id), answer);
  }
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: prescriptionKeys.lists }),
    id && !(looksLikePrescription(answer) && answer.id === id)
      ? queryClient.invalidateQueries({ queryKey: prescriptionKeys.detail(id) })
      : undefined,
  ]);
}

export function invalidatePrescriptions(queryClient: QueryClient) {
  return queryClient.invalidateQueries({ queryKey: prescriptionKeys.all });
}

// ------------------------------------------------------------------ catalog

/** The catalog search behind the Medication combobox (debounced; two letters at least). */
export function useMedicationSearch(query: string, limit = 20) {
  const settled = useDebouncedValue(query.trim(), SEARCH_DEBOUNCE_MS);
  const result = useQuery({
    queryKey: prescriptionKeys.medications(`${settled}|${limit}`),
    queryFn: ({ signal }) =>
      api.get<MedicationList>(
        `/api/medications/?${new URLSearchParams({ q: settled, limit: String(limit) }).toString()}`,
        signal,
      ),
    enabled: settled.length >= MIN_SEARCH_LENGTH,
    placeholderData: keepPreviousData,
    staleTime: 5 * 60_000,
  });
  return { ...result, settledQuery: settled, settling: settled !== query.trim() };
}

export function useVocabulary() {
  return useQuery({
    queryKey: prescriptionKeys.vocabulary,
    queryFn: ({ signal }) => api.get<Vocabulary>('/api/prescriptions/vocabulary/', signal),
    staleTime: Infinity,
  });
}

// ------------------------------------------------------------------ the live safety check

/**
 * POST /api/prescriptions/check/ for the items on the form, whenever they change (debounced).
 * `current` is true only when the answer shown is for exactly the items on the form now.
 */
export function useSafetyCheck(patientId: string, medications: readonly string[]) {
  const key = medications.join('\n');
  const settled = useDebouncedValue(key, CHECK_DEBOUNCE_MS);
  const list = settled ? settled.split('\n') : [];
  const query = useQuery({
    queryKey: prescriptionKeys.check(patientId, settled),
    queryFn: () =>
      api.post<CheckResult>('/api/prescriptions/check/', { patient: patientId, medications: list }),
    enabled: !!patientId && list.length > 0,
    placeholderData: keepPreviousData,
    staleTime: 0,
  });
  const current =
    medications.length === 0 ||
    (settled === key && query.isSuccess && !query.isPlaceholderData && !query.isFetching);
  return { ...query, current };
}

// ------------------------------------------------------------------ prescriptions

export function usePrescriptions(patientId: string | null, status: PrescriptionStatus | '' = '') {
  return useQuery({
    queryKey: prescriptionKeys.list(patientId, status),
    queryFn: ({ signal }) => {
      const params = new URLSearchParams();
      if (patientId) params.set('patient', patientId);
      if (status) params.set('status', status);
      const query = params.toString();
      return api.get<PrescriptionList>(`/api/prescriptions/${query ? `?${query}` : ''}`, signal);
    },
    staleTime: 0,
  });
}

/**
 * One prescription. (The server works out from the prescription whose it is, so a family
 * member does not name the patient here.)
 */
export function usePrescription(id: string, enabled = true) {
  return useQuery({
    queryKey: prescriptionKeys.detail(id),
    queryFn: ({ signal }) => api.get<Prescription>(prescriptionPath(id), signal),
    enabled: enabled && !!id,
    staleTime: 10_000,
  });
}

export function useCreatePrescription() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: PrescriptionCreate) => api.post<Prescription>('/api/prescriptions/', input),
    onSuccess: (prescription) => storePrescription(queryClient, prescription),
  });
}

/** The prescribing doctor cancels (a reason is required). */
export function useCancelPrescription(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (reason: string) =>
      api.post<Prescription>(`${prescriptionPath(id)}cancel/`, { reason }),
    onSuccess: (answer) => storePrescription(queryClient, answer, id),
    onError: () => queryClient.invalidateQueries({ queryKey: prescriptionKeys.detail(id) }),
  });
}

/** The patient (or a family member for them) asks the doctor for a refill. */
export function useRequestRefill(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<unknown>(`${prescriptionPath(id)}refill/`, {}),
    onSuccess: (answer) => storePrescription(queryClient, answer, id),
    onError: () => queryClient.invalidateQueries({ queryKey: prescriptionKeys.detail(id) }),
  });
}

/** The prescribing doctor approves a refill: a new prescription, signed again. */
export function useApproveRefill() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ refillId, auth }: { refillId: string; auth: Reauth }) =>
      api.post<unknown>(`/api/refills/${enc(refillId)}/approve/`, auth),
    onSuccess: (answer) => {
      if (looksLikePrescription(answer)) {
        queryClient.setQueryData(prescriptionKeys.detail(answer.id), answer);
      }
      return invalidatePrescriptions(queryClient);
    },
  });
}

export function useDeclineRefill() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ refillId, reason }: { refillId: string; reason: string }) =>
      api.post<unknown>(`/api/refills/${enc(refillId)}/decline/`, { reason }),
    onSuccess: () => invalidatePrescriptions(queryClient),
  });
}

/** Sends to `pharmacy`, or (none named) to the patient's preferred pharmacy. */
export function useSendToPharmacy(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (pharmacy: string | null) =>
      api.post<unknown>(`${prescriptionPath(id)}send/`, pharmacy ? { pharmacy } : {}),
    onSuccess: (answer) => storePrescription(queryClient, answer, id),
  });
}

export function useSetReminders(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ enabled, timezone }: { enabled: boolean; timezone?: string }) =>
      api.post<unknown>(`${prescriptionPath(id)}reminders/`, {
        enabled,
        ...(timezone ? { timezone } : {}),
      }),
    onSuccess: (answer) => storePrescription(queryClient, answer, id),
  });
}

// ------------------------------------------------------------------ pharmacies

/** The pharmacy directory, searched by name and city (debounced). */
export function usePharmacies(query: string, city: string) {
  const settledQuery = useDebouncedValue(query.trim(), SEARCH_DEBOUNCE_MS);
  const settledCity = useDebouncedValue(city.trim(), SEARCH_DEBOUNCE_MS);
  return useQuery({
    queryKey: prescriptionKeys.pharmacies(settledQuery, settledCity),
    queryFn: ({ signal }) => {
      const params = new URLSearchParams();
      if (settledQuery) params.set('q', settledQuery);
      if (settledCity) params.set('city', settledCity);
      const search = params.toString();
      return api.get<PharmacyList>(`/api/pharmacies/${search ? `?${search}` : ''}`, signal);
    },
    placeholderData: keepPreviousData,
    staleTime: 5 * 60_000,
  });
}

export function usePreferredPharmacy(patientId: string | null, enabled = true) {
  return useQuery({
    queryKey: prescriptionKeys.preferred(patientId),
    queryFn: ({ signal }) =>
      api.get<PreferredPharmacy>(withPatient('/api/pharmacies/preferred/', patientId), signal),
    enabled,
  });
}

export function useSetPreferredPharmacy(patientId: string | null) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (pharmacy: string) =>
      api.put<PreferredPharmacy>('/api/pharmacies/preferred/', {
        pharmacy,
        ...(patientId ? { patient: patientId } : {}),
      }),
    onSuccess: (answer, pharmacyId) => {
      if (answer && typeof answer === 'object' && 'pharmacy' in answer) {
        queryClient.setQueryData(prescriptionKeys.preferred(patientId), answer);
      } else {
        void queryClient.invalidateQueries({ queryKey: prescriptionKeys.preferred(patientId) });
      }
      return pharmacyId;
    },
  });
}

/** A pharmacy of the directory already in the cache (to name it before the server answers). */
export function cachedPharmacy(queryClient: QueryClient, id: string): Pharmacy | null {
  for (const [, data] of queryClient.getQueriesData<PharmacyList>({
    queryKey: ['pharmacies', 'list'],
  })) {
    const found = data?.results.find((p) => p.id === id);
    if (found) return found;
  }
  return null;
}

// ------------------------------------------------------------------ verification (anyone)

export function useVerifyPrescription(code: string) {
  return useQuery({
    queryKey: prescriptionKeys.verify(code),
    queryFn: ({ signal }) =>
      api.get<VerifyResult>(
        `/api/prescriptions/verify/?${new URLSearchParams({ code }).toString()}`,
        signal,
      ),
    enabled: !!code,
    staleTime: 0,
  });
}

export const pharmacyInboxPath = (token: string) => `/api/pharmacy-inbox/${enc(token)}/`;

/** The pharmacy's download page behind the emailed link. */
export function usePharmacyInbox(token: string) {
  return useQuery({
    queryKey: prescriptionKeys.inbox(token),
    queryFn: ({ signal }) => api.get<PharmacyInbox>(pharmacyInboxPath(token), signal),
    enabled: !!token,
    staleTime: Infinity,
  });
}
