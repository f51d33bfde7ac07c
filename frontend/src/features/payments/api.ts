import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { invalidateBooking } from '../booking/api';
import type { Checkout, DevCardInput, Payment, PaymentList, RefundInput } from './types';

/** Query keys of the payments feature (kept here until the API types are generated). */
export const paymentKeys = {
  /** Prefix of every payments query. */
  all: ['payments'] as const,
  lists: ['payments', 'list'] as const,
  list: (patientId: string | null) => ['payments', 'list', patientId ?? 'me'] as const,
  detail: (paymentId: string) => ['payments', 'detail', paymentId] as const,
};

const paymentPath = (id: string) => `/api/payments/${encodeURIComponent(id)}/`;

/** The server's newest word on a payment: into the cache; lists (and bookings) refetch. */
function storePayment(queryClient: QueryClient, payment: Payment): Promise<unknown> {
  queryClient.setQueryData(paymentKeys.detail(payment.id), payment);
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: paymentKeys.lists }),
    // A paid (or lapsed) booking payment confirms (or releases) its appointment.
    payment.appointment ? invalidateBooking(queryClient) : undefined,
  ]);
}

/** Bills of the caller, of `patientId` they act for (scope `pay`), or of the staff's center. */
export function usePayments(patientId: string | null) {
  return useQuery({
    queryKey: paymentKeys.list(patientId),
    queryFn: ({ signal }) => {
      const query = patientId ? `?${new URLSearchParams({ patient: patientId }).toString()}` : '';
      return api.get<PaymentList>(`/api/payments/${query}`, signal);
    },
    staleTime: 0,
  });
}

export function usePayment(paymentId: string) {
  return useQuery({
    queryKey: paymentKeys.detail(paymentId),
    queryFn: ({ signal }) => api.get<Payment>(paymentPath(paymentId), signal),
    staleTime: 0,
    // The checkout drives this one by hand; a refetch on focus would race the card form.
    refetchOnWindowFocus: false,
  });
}

/** Starts (or resumes) the checkout: which gateway, and its client secret. */
export function useCheckout(paymentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Checkout>(`${paymentPath(paymentId)}checkout/`, {}),
    onSuccess: (checkout) => storePayment(queryClient, checkout.payment),
    // Refused or unreachable: the payment may have moved on (paid elsewhere, lapsed).
    onError: () => queryClient.invalidateQueries({ queryKey: paymentKeys.detail(paymentId) }),
  });
}

/** The dev gateway's card form. */
export function useDevConfirm(paymentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (card: DevCardInput) =>
      api.post<Payment>(`${paymentPath(paymentId)}dev/confirm/`, card),
    onSuccess: (payment) => storePayment(queryClient, payment),
    // Refused or unreachable: the payment may have moved on (paid elsewhere, lapsed).
    onError: () => queryClient.invalidateQueries({ queryKey: paymentKeys.detail(paymentId) }),
  });
}

/** The dev gateway's "Confirm this payment" step (as a bank's 3-D Secure would ask). */
export function useDevAuthenticate(paymentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (approve: boolean) =>
      api.post<Payment>(`${paymentPath(paymentId)}dev/authenticate/`, { approve }),
    onSuccess: (payment) => storePayment(queryClient, payment),
    // Refused or unreachable: the payment may have moved on (paid elsewhere, lapsed).
    onError: () => queryClient.invalidateQueries({ queryKey: paymentKeys.detail(paymentId) }),
  });
}

/** After Stripe.js has confirmed (or failed): the server reads the result from Stripe. */
export function useSyncPayment(paymentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Payment>(`${paymentPath(paymentId)}sync/`, {}),
    onSuccess: (payment) => storePayment(queryClient, payment),
    // Refused or unreachable: the payment may have moved on (paid elsewhere, lapsed).
    onError: () => queryClient.invalidateQueries({ queryKey: paymentKeys.detail(paymentId) }),
  });
}

/** Staff: refund all that is left (no amount) or part of it. */
export function useRefund() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: RefundInput & { id: string }) =>
      api.post<Payment>(`${paymentPath(id)}refund/`, input),
    onSuccess: (payment) => storePayment(queryClient, payment),
  });
}
