import { describe, expect, it } from 'vitest';
import { withPatient, prescriptionPdfUrl } from './api';
import {
  asFreeText,
  buildPrescriptionBody,
  canPrescribeFor,
  checkKey,
  checkKeys,
  directions,
  emptyDraft,
  findingsNeedingOverride,
  hasProblems,
  isAllClear,
  isPatientSide,
  isPrescribingDoctor,
  itemInput,
  itemProblems,
  itemServerErrors,
  joinNames,
  maxRefillsFor,
  medicineLine,
  medicinesText,
  missingOverrides,
  needsOverride,
  noDataText,
  normaliseCode,
  onlyWaitingForCheck,
  overrideLabel,
  overrideRequiredIds,
  overridesFor,
  prescribePath,
  prescriptionCardLook,
  reauthPayload,
  refillBlocker,
  refillCardStatus,
  refillsLeftText,
  sendCardStatus,
  severityLook,
  signBlockers,
  sortFindings,
  sortPrescriptions,
  withMedication,
  type ItemDraft,
} from './format';
import type { CatalogMedication, Finding, PrescribingLimits, Prescription } from './types';

const LIMITS: PrescribingLimits = {
  max_items: 10,
  max_quantity: 1000,
  max_duration_days: 365,
  max_refills: 11,
  max_refills_controlled: 5,
};

const KNOWN = {
  frequencies: ['once_daily', 'three_times_daily', 'as_needed'],
  routes: ['oral', 'topical'],
};

function medication(overrides: Partial<CatalogMedication> = {}): CatalogMedication {
  return {
    id: 'med-amox',
    slug: 'amoxicillin',
    name: 'Amoxicillin',
    ingredients: ['amoxicillin'],
    classes: ['penicillins'],
    forms: ['capsule', 'tablet'],
    strengths: ['250 mg', '500 mg'],
    routes: ['oral'],
    brand_names: ['Amoxil'],
    rxnorm: '723',
    controlled: '',
    has_interaction_data: true,
    ...overrides,
  };
}

function filled(overrides: Partial<ItemDraft> = {}): ItemDraft {
  return {
    ...withMedication(emptyDraft(), medication()),
    strength: '500 mg',
    form: 'capsule',
    dose: '1 capsule',
    route: 'oral',
    frequency: 'three_times_daily',
    durationDays: '7',
    quantity: '21',
    refills: '0',
    instructions: '  Take with food. ',
    ...overrides,
  };
}

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'interaction:ibuprofen|warfarin',
    kind: 'interaction',
    severity: 'major',
    medications: ['Warfarin', 'Ibuprofen'],
    message: 'Raises the risk of serious bleeding.',
    source: 'ONC high-priority DDI list',
    requires_override: true,
    ...overrides,
  };
}

function prescription(overrides: Partial<Prescription> = {}): Prescription {
  return {
    id: 'rx-1',
    patient: 'patient-1',
    patient_name: 'Ana Silva',
    doctor: { id: 'doc-1', name: 'Dr Rui Costa', center: 'Lisbon Clinic', license_number: 'L1' },
    appointment: null,
    status: 'active',
    issued_at: '2026-03-01T10:00:00Z',
    expires_at: '2027-03-01T10:00:00Z',
    verification_code: 'K7QX-4M2P-9TRA',
    refill_of: null,
    renewal: null,
    items: [
      {
        medication: 'med-amox',
        name: 'Amoxicillin',
        free_text: false,
        strength: '500 mg',
        form: 'capsule',
        dose: '1 capsule',
        route: 'oral',
        frequency: 'three_times_daily',
        frequency_label: 'three times a day',
        duration_days: 7,
        quantity: 21,
        refills: 2,
        instructions: '',
        substitution_allowed: true,
      },
    ],
    overrides: [],
    refills_left: 2,
    refill_request: null,
    cancel_reason: '',
    reminders_enabled: false,
    reminder_times: ['08:00', '14:00', '20:00'],
    sends: [],
    conversation: null,
    can_cancel: true,
    can_request_refill: true,
    ...overrides,
  };
}

describe('severities and findings', () => {
  it('gives contraindicated and major the danger tone, moderate warning, minor info', () => {
    expect(severityLook('contraindicated').tone).toBe('danger');
    expect(severityLook('major').tone).toBe('danger');
    expect(severityLook('moderate').tone).toBe('warning');
    expect(severityLook('minor').tone).toBe('info');
    expect(severityLook('weird')).toMatchObject({ tone: 'neutral', label: 'weird' });
  });

  it('sorts the most severe first, overrides first among equals, then by id', () => {
    const sorted = sortFindings([
      finding({ id: 'c', severity: 'minor', requires_override: false }),
      finding({ id: 'b', severity: 'moderate', requires_override: false }),
      finding({ id: 'z', severity: 'major', requires_override: false }),
      finding({ id: 'a', severity: 'major' }),
      finding({ id: 'd', severity: 'contraindicated' }),
    ]);
    expect(sorted.map((f) => f.id)).toEqual(['d', 'a', 'z', 'b', 'c']);
  });

  it('needs an override for contraindicated and major findings, or when the server says so', () => {
    expect(needsOverride({ severity: 'major', requires_override: false })).toBe(true);
    expect(needsOverride({ severity: 'contraindicated', requires_override: false })).toBe(true);
    expect(needsOverride({ severity: 'moderate', requires_override: false })).toBe(false);
    expect(needsOverride({ severity: 'moderate', requires_override: true })).toBe(true);
    const list = [
      finding({ id: 'm', severity: 'moderate', requires_override: false }),
      finding({ id: 'x' }),
    ];
    expect(findingsNeedingOverride(list).map((f) => f.id)).toEqual(['x']);
  });

  it('labels the override box by the medicines, telling look-alikes apart', () => {
    const interaction = finding();
    expect(overrideLabel(interaction, [interaction])).toBe(
      'Override reason for Warfarin and Ibuprofen',
    );
    const duplicate = finding({ id: 'duplicate:x', kind: 'duplicate' });
    expect(overrideLabel(duplicate, [interaction, duplicate])).toBe(
      'Override reason for Warfarin and Ibuprofen (duplicate therapy)',
    );
    const allergy = finding({
      id: 'allergy:amoxicillin',
      kind: 'allergy',
      medications: ['Amoxicillin'],
    });
    expect(overrideLabel(allergy, [interaction, allergy])).toBe('Override reason for Amoxicillin');
  });

  it('lists the findings still missing a reason and builds the overrides to send', () => {
    const list = [finding({ id: 'a' }), finding({ id: 'b', severity: 'contraindicated' })];
    expect(missingOverrides(list, { a: 'INR monitored weekly', b: '   ' })).toEqual(['b']);
    expect(overridesFor(list, { a: '  INR monitored weekly ', b: '' })).toEqual([
      { finding: 'a', reason: 'INR monitored weekly' },
    ]);
  });

  it('says plainly what was not checked', () => {
    expect(noDataText('Minoxidil')).toBe(
      'No interaction data for: Minoxidil. This medicine was not checked for interactions.',
    );
    expect(isAllClear({ findings: [], no_data: [] })).toBe(true);
    expect(isAllClear({ findings: [], no_data: ['Minoxidil'] })).toBe(false);
    expect(isAllClear(undefined)).toBe(false);
  });

  it('joins names the way people read them', () => {
    expect(joinNames([])).toBe('');
    expect(joinNames(['A'])).toBe('A');
    expect(joinNames(['A', 'B'])).toBe('A and B');
    expect(joinNames(['A', 'B', 'C'])).toBe('A, B and C');
  });
});

describe('the prescribe form', () => {
  it('takes a medicine with a single strength, form and route as chosen', () => {
    const one = medication({ strengths: ['10 mg'], forms: ['tablet'], routes: ['oral'] });
    const draft = withMedication(emptyDraft(), one);
    expect(draft).toMatchObject({ strength: '10 mg', form: 'tablet', route: 'oral' });
    // Several to choose from: keep what fits, leave the rest empty.
    const kept = withMedication({ ...emptyDraft(), strength: '500 mg', form: 'gel' }, medication());
    expect(kept).toMatchObject({ strength: '500 mg', form: '', route: 'oral' });
  });

  it('checks a complete item as fine and explains what is missing', () => {
    expect(hasProblems(itemProblems(filled(), LIMITS, KNOWN))).toBe(false);
    const problems = itemProblems(emptyDraft(), LIMITS, KNOWN);
    expect(Object.keys(problems).sort()).toEqual(
      ['dose', 'durationDays', 'frequency', 'medication', 'quantity', 'route'].sort(),
    );
    expect(itemProblems(filled({ strength: '' }), LIMITS).strength).toBe('Choose a strength.');
  });

  it('keeps quantity, duration and refills within the limits', () => {
    const problems = itemProblems(
      filled({ quantity: '1001', durationDays: '0', refills: '12' }),
      LIMITS,
    );
    expect(problems.quantity).toBe('Between 1 and 1000.');
    expect(problems.durationDays).toBe('Between 1 and 365 days.');
    expect(problems.refills).toBe('At most 11 refills.');
    expect(itemProblems(filled({ quantity: '2.5' }), LIMITS).quantity).toBeDefined();
    expect(itemProblems(filled({ frequency: 'hourly' }), LIMITS, KNOWN).frequency).toBeDefined();
  });

  it('allows fewer refills for controlled medicines and none for schedule II', () => {
    expect(maxRefillsFor('', LIMITS)).toBe(11);
    expect(maxRefillsFor('IV', LIMITS)).toBe(5);
    expect(maxRefillsFor('II', LIMITS)).toBe(0);
    const oxy = filled({ medication: medication({ controlled: 'II' }), refills: '1' });
    expect(itemProblems(oxy, LIMITS).refills).toMatch(/No refills/);
    const tramadol = filled({ medication: medication({ controlled: 'IV' }), refills: '6' });
    expect(itemProblems(tramadol, LIMITS).refills).toBe('At most 5 refills (schedule IV).');
  });

  it('sends a catalog item by id and a free-text item by name', () => {
    expect(itemInput(filled())).toEqual({
      medication: 'med-amox',
      strength: '500 mg',
      form: 'capsule',
      dose: '1 capsule',
      route: 'oral',
      frequency: 'three_times_daily',
      duration_days: 7,
      quantity: 21,
      refills: 0,
      instructions: 'Take with food.',
      substitution_allowed: true,
    });
    const free = asFreeText(filled(), ' Minoxidil 5% ');
    expect(free.medication).toBeNull();
    expect(itemInput(free)).toMatchObject({
      medication: null,
      free_text: true,
      name: 'Minoxidil 5%',
      strength: '',
      form: '',
    });
    expect(hasProblems(itemProblems(free, LIMITS, KNOWN))).toBe(false);
    expect(itemProblems(asFreeText(emptyDraft(), ''), LIMITS).name).toBeDefined();
  });

  it('checks catalog ids and free-text names', () => {
    const free = asFreeText(filled(), 'Minoxidil');
    expect(checkKey(filled())).toBe('med-amox');
    expect(checkKey(free)).toBe('Minoxidil');
    expect(checkKey(emptyDraft())).toBeNull();
    expect(checkKeys([filled(), emptyDraft(), free])).toEqual(['med-amox', 'Minoxidil']);
  });

  it('builds the POST body with overrides and the password or code', () => {
    const body = buildPrescriptionBody({
      patient: 'p1',
      appointment: 'a1',
      items: [filled()],
      findings: [finding(), finding({ id: 'minor', severity: 'minor', requires_override: false })],
      reasons: { 'interaction:ibuprofen|warfarin': 'INR monitored weekly', minor: 'ignored' },
      auth: { password: 'secret' },
    });
    expect(body).toMatchObject({
      patient: 'p1',
      appointment: 'a1',
      overrides: [{ finding: 'interaction:ibuprofen|warfarin', reason: 'INR monitored weekly' }],
      password: 'secret',
    });
    expect(body.items).toHaveLength(1);
    expect('otp' in body).toBe(false);

    const noAppointment = buildPrescriptionBody({
      patient: 'p1',
      appointment: null,
      items: [filled()],
      findings: [],
      reasons: {},
      auth: { otp: '123456' },
    });
    expect('appointment' in noAppointment).toBe(false);
    expect(noAppointment).toMatchObject({ otp: '123456', overrides: [] });
  });

  it('reads the re-authentication typed', () => {
    expect(reauthPayload('password', ' pass ')).toEqual({ password: ' pass ' });
    expect(reauthPayload('password', '')).toBeNull();
    expect(reauthPayload('otp', '123 456')).toEqual({ otp: '123456' });
    expect(reauthPayload('otp', '  ')).toBeNull();
  });

  it('says why it cannot be signed yet', () => {
    const base = {
      items: [filled()],
      limits: LIMITS,
      checkCurrent: true,
      checkFailed: false,
      findings: [] as Finding[],
      reasons: {},
    };
    expect(signBlockers(base)).toEqual([]);
    expect(signBlockers({ ...base, items: [] }).map((b) => b.code)).toEqual(['empty']);
    const waiting = signBlockers({ ...base, checkCurrent: false });
    expect(waiting.map((b) => b.code)).toEqual(['check_pending']);
    expect(onlyWaitingForCheck(waiting)).toBe(true);
    expect(signBlockers({ ...base, checkCurrent: false, checkFailed: true })[0]?.code).toBe(
      'check_failed',
    );
    const override = signBlockers({ ...base, findings: [finding()] });
    expect(override.map((b) => b.code)).toEqual(['overrides']);
    expect(onlyWaitingForCheck(override)).toBe(false);
    expect(
      signBlockers({ ...base, findings: [finding()], reasons: { [finding().id]: 'ok' } }),
    ).toEqual([]);
    const editor = signBlockers({ ...base, editor: { name: 'Ibuprofen', editing: false } });
    expect(editor[0]?.text).toMatch(/Add Ibuprofen/);
    const many = signBlockers({ ...base, items: Array.from({ length: 11 }, () => filled()) });
    expect(many.map((b) => b.code)).toContain('too_many');
  });

  it("maps the server's field errors to the item they are about", () => {
    const fields = { items: [{}, { quantity: ['Ensure this value is at most 1000.'] }] };
    expect(itemServerErrors(fields, 0)).toEqual([]);
    expect(itemServerErrors(fields, 1)).toEqual(['Quantity: Ensure this value is at most 1000.']);
    expect(itemServerErrors({ 'items.0.route': ['Unknown route.'] }, 0)).toEqual([
      'Route: Unknown route.',
    ]);
    expect(overrideRequiredIds({ findings: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(overrideRequiredIds({})).toEqual([]);
  });
});

describe('reading prescriptions', () => {
  it('writes the medicines and directions', () => {
    const rx = prescription();
    expect(medicineLine(rx.items[0]!)).toBe('Amoxicillin 500 mg capsule');
    expect(medicinesText(rx)).toBe('Amoxicillin 500 mg capsule');
    expect(directions(rx.items[0]!, (code) => (code === 'oral' ? 'By mouth' : code))).toBe(
      '1 capsule, by mouth, three times a day, for 7 days',
    );
  });

  it('lists active ones first, then the newest', () => {
    const sorted = sortPrescriptions([
      prescription({ id: 'old-active', issued_at: '2026-01-01T00:00:00Z' }),
      prescription({ id: 'new-cancelled', status: 'cancelled', issued_at: '2026-05-01T00:00:00Z' }),
      prescription({ id: 'new-active', issued_at: '2026-04-01T00:00:00Z' }),
    ]);
    expect(sorted.map((p) => p.id)).toEqual(['new-active', 'old-active', 'new-cancelled']);
  });

  it('explains why a refill cannot be requested', () => {
    expect(refillBlocker(prescription())).toBeNull();
    expect(refillBlocker(prescription({ status: 'cancelled' }))).toBe(
      'This prescription was cancelled.',
    );
    expect(refillBlocker(prescription({ status: 'expired' }))).toBe(
      'This prescription has expired.',
    );
    expect(
      refillBlocker(
        prescription({
          refill_request: { id: 'r', status: 'pending', requested_at: '', decline_reason: '' },
        }),
      ),
    ).toBe('A refill request is already waiting for Dr Rui Costa.');
    expect(refillBlocker(prescription({ refills_left: 0 }))).toMatch(/^No refills left/);
    expect(refillBlocker(prescription({ can_request_refill: false }))).toBeTruthy();
    // A declined earlier request does not block a new one.
    expect(
      refillBlocker(
        prescription({
          refill_request: { id: 'r', status: 'declined', requested_at: '', decline_reason: 'No' },
        }),
      ),
    ).toBeNull();
    expect(refillsLeftText(0)).toBe('No refills left');
    expect(refillsLeftText(1)).toBe('1 refill left');
    expect(refillsLeftText(3)).toBe('3 refills left');
  });

  it('knows who is who', () => {
    const rx = prescription();
    expect(isPrescribingDoctor(rx, { doctor: 'doc-1' })).toBe(true);
    expect(isPrescribingDoctor(rx, { doctor: 'doc-2' })).toBe(false);
    expect(isPrescribingDoctor(rx, { doctor: null })).toBe(false);
    expect(isPatientSide(rx, { id: 'patient-1' }, null)).toBe(true);
    expect(isPatientSide(rx, { id: 'mum' }, 'patient-1')).toBe(true);
    expect(isPatientSide(rx, { id: 'mum' }, null)).toBe(false);
  });

  it('names the patient for family members', () => {
    expect(withPatient('/api/pharmacies/preferred/', null)).toBe('/api/pharmacies/preferred/');
    expect(withPatient('/api/pharmacies/preferred/', 'p 1')).toBe(
      '/api/pharmacies/preferred/?patient=p+1',
    );
    expect(withPatient('/api/x/?a=1', 'p')).toBe('/api/x/?a=1&patient=p');
    expect(prescriptionPdfUrl({ id: 'rx-1' })).toBe('/api/prescriptions/rx-1/pdf/');
    expect(prescriptionPdfUrl({ id: 'rx-1', pdf_url: '/x.pdf' })).toBe('/x.pdf');
  });

  it('normalises a typed verification code', () => {
    expect(normaliseCode('k7qx 4m2p9tra')).toBe('K7QX-4M2P-9TRA');
    expect(normaliseCode('K7QX-4M2P-9TRA')).toBe('K7QX-4M2P-9TRA');
    expect(normaliseCode(' abc ')).toBe('ABC');
  });
});

describe('entry points', () => {
  it('links to the prescribe page', () => {
    expect(prescribePath()).toBe('/prescribe');
    expect(prescribePath('p1')).toBe('/prescribe?patient=p1');
    expect(prescribePath('p1', 'a1')).toBe('/prescribe?patient=p1&appointment=a1');
  });

  it('offers Prescribe from the consult until seven days after it', () => {
    const start = Date.parse('2026-03-10T10:00:00Z');
    const appointment = {
      status: 'completed',
      start: '2026-03-10T10:00:00Z',
      end: '2026-03-10T10:30:00Z',
    };
    const day = 24 * 60 * 60_000;
    expect(canPrescribeFor(appointment, start + day)).toBe(true);
    expect(canPrescribeFor(appointment, start + 8 * day)).toBe(false);
    expect(canPrescribeFor({ ...appointment, status: 'confirmed' }, start - 5 * 60_000)).toBe(true);
    expect(canPrescribeFor({ ...appointment, status: 'confirmed' }, start - 60 * 60_000)).toBe(
      false,
    );
    expect(canPrescribeFor({ ...appointment, status: 'cancelled' }, start)).toBe(false);
    expect(canPrescribeFor({ ...appointment, status: 'no_show' }, start + day)).toBe(false);
  });
});

describe('chat cards', () => {
  it('follows the prescription on the issue card', () => {
    expect(prescriptionCardLook('completed', 'active').label).toBe('Active');
    expect(prescriptionCardLook('cancelled', undefined).label).toBe('Cancelled');
    expect(prescriptionCardLook('expired', 'expired').label).toBe('Expired');
    expect(prescriptionCardLook('completed', undefined).label).toBe('Active');
  });

  it('reads the refill card as pending, approved or declined', () => {
    expect(refillCardStatus('open', 'pending')).toBe('pending');
    expect(refillCardStatus('completed', undefined)).toBe('approved');
    expect(refillCardStatus('cancelled', undefined)).toBe('declined');
    expect(refillCardStatus(undefined, 'declined')).toBe('declined');
    expect(refillCardStatus(undefined, undefined)).toBe('pending');
  });

  it('reads the pharmacy card, a failed state winning', () => {
    expect(sendCardStatus('completed', 'queued')).toBe('queued');
    expect(sendCardStatus('completed', 'sent')).toBe('sent');
    expect(sendCardStatus('failed', 'queued')).toBe('failed');
    expect(sendCardStatus('completed', undefined)).toBe('sent');
  });
});

describe('isReauthError', () => {
  it('keeps re-auth answers and the lockout in the dialog, and nothing else', async () => {
    const { ApiError } = await import('../../api/client');
    const { isReauthError } = await import('./ReauthDialog');
    expect(isReauthError(new ApiError(403, 'reauth_failed', 'That password is not right.'))).toBe(
      true,
    );
    expect(isReauthError(new ApiError(403, 'reauth_required', 'Confirm it is you.'))).toBe(true);
    expect(
      isReauthError(new ApiError(429, 'throttled', 'Too many wrong passwords or codes.')),
    ).toBe(true);
    expect(isReauthError(new ApiError(400, 'override_required', 'Give a reason.'))).toBe(false);
    expect(isReauthError(new Error('network'))).toBe(false);
  });
});
