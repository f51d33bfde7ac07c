import { useState, type FormEvent } from 'react';
import { isApiError } from '../../api/client';
import type { Appointment, AppointmentDoctor, ConsultMode, SlotMode } from '../../api/types';
import { Alert, Button, Dialog, ErrorAlert, fieldError, Select, TextArea } from '../../components';
import { fullName } from '../../lib/format';
import { formatMoney } from '../../lib/money';
import { hasRole } from '../../lib/roles';
import { formatInZone, formatTimeRange, viewerTimeZone, zoneLabel } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { useCurrentUser } from '../auth/session';
import { useBook } from './api';
import { MODE_LABEL, modesFor } from './status';

export interface ChosenSlot {
  id: string;
  start: string;
  end: string;
  mode: SlotMode;
}

type BookingDoctor = Pick<AppointmentDoctor, 'id' | 'name' | 'center' | 'fees' | 'modes'>;

/** Who the signed-in user may book for: themselves (patients) and those they act for with `book`. */
export function useBookingTargets(): { value: string; label: string }[] {
  const me = useCurrentUser();
  const { patients } = useActingFor();
  const targets: { value: string; label: string }[] = [];
  if (hasRole(me, 'patient')) targets.push({ value: '', label: `Myself (${fullName(me)})` });
  for (const entry of patients) {
    if (entry.scopes.includes('book')) {
      targets.push({ value: entry.patient.id, label: fullName(entry.patient) });
    }
  }
  return targets;
}

/** The patient a booking is for by default: whom the user acts for (if allowed), else themselves. */
export function useDefaultTarget(): string {
  const { current } = useActingFor();
  return current && current.scopes.includes('book') ? current.patient.id : '';
}

export function slotTakenMessage(): string {
  return 'Someone else booked this time a moment ago. The free times have been refreshed: please choose another.';
}

/**
 * Book a chosen slot: for whom, how (when the slot offers both), and the reason for the visit.
 * `fixedPatient` books for that person only (a held waitlist slot). Render it only while a slot
 * is chosen, keyed by the slot, so each choice starts afresh.
 */
export function BookingDialog({
  doctor,
  slot,
  fixedPatient,
  onClose,
  onBooked,
}: {
  doctor: BookingDoctor;
  slot: ChosenSlot;
  fixedPatient?: { id: string; name: string; self: boolean };
  onClose: () => void;
  onBooked: (appointment: Appointment) => void;
}) {
  const book = useBook();
  const targets = useBookingTargets();
  const defaultTarget = useDefaultTarget();
  const zone = viewerTimeZone();
  const centerZone = doctor.center.timezone;
  const modes = modesFor(slot.mode, doctor.modes);
  const [target, setTarget] = useState(
    fixedPatient ? (fixedPatient.self ? '' : fixedPatient.id) : defaultTarget,
  );
  const [mode, setMode] = useState<ConsultMode | ''>(modes.length === 1 ? (modes[0] ?? '') : '');
  const [reason, setReason] = useState('');
  const [modeMissing, setModeMissing] = useState(false);

  const close = () => {
    if (book.isPending) return;
    book.reset();
    onClose();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!mode) {
      setModeMissing(true);
      return;
    }
    book.mutate(
      {
        slot: slot.id,
        mode,
        ...(target ? { patient: target } : {}),
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      },
      {
        onSuccess: (appointment) => {
          book.reset();
          onBooked(appointment);
        },
      },
    );
  };

  const taken = isApiError(book.error, 'slot_taken') || isApiError(book.error, 'slot_not_bookable');
  const fee = mode ? doctor.fees[mode] : null;

  return (
    <Dialog open title="Book appointment" onClose={close} busy={book.isPending}>
      <form onSubmit={submit} className="stack-sm" noValidate>
        <dl className="details">
          <div>
            <dt>Doctor</dt>
            <dd>{doctor.name}</dd>
          </div>
          <div>
            <dt>When</dt>
            <dd>
              {formatInZone(slot.start, zone, 'EEEE d MMMM yyyy')},{' '}
              {formatTimeRange(slot.start, slot.end, zone)}
              <span className="meta-line" style={{ display: 'block' }}>
                Your time zone: {zoneLabel(zone, new Date(slot.start))}
                {centerZone &&
                  formatTimeRange(slot.start, slot.end, centerZone) !==
                    formatTimeRange(slot.start, slot.end, zone) && (
                    <>
                      {' '}
                      · at the center: {formatTimeRange(slot.start, slot.end, centerZone)} (
                      {centerZone})
                    </>
                  )}
              </span>
            </dd>
          </div>
        </dl>

        {fixedPatient ? (
          <p>
            For <strong>{fixedPatient.name}</strong>
          </p>
        ) : targets.length === 0 ? (
          <Alert tone="warning">
            Only patient accounts, and family members with permission to book, can book here.
          </Alert>
        ) : (
          <Select
            label="Book for"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            options={targets}
            error={fieldError(book.error, 'patient')}
          />
        )}

        {modes.length > 1 ? (
          <Select
            label="Consultation"
            value={mode}
            onChange={(e) => {
              setModeMissing(false);
              setMode(e.target.value as ConsultMode);
            }}
            placeholder="Choose online or in person"
            options={modes.map((m) => ({ value: m, label: MODE_LABEL[m] }))}
            error={
              modeMissing
                ? 'Choose how you want to see the doctor.'
                : fieldError(book.error, 'mode')
            }
          />
        ) : (
          <p>
            Consultation: <strong>{modes[0] ? MODE_LABEL[modes[0]] : ''}</strong>
            {modes[0] === 'in_person' && ` at ${doctor.center.name}, ${doctor.center.address}`}
          </p>
        )}
        {fee && (
          <p className="meta-line">
            Fee: <strong>{formatMoney(fee)}</strong>
          </p>
        )}

        <TextArea
          label="Reason for visit"
          optional
          maxLength={500}
          hint="Only you, people you allow to book for you, and the doctor's center can read this."
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          error={fieldError(book.error, 'reason')}
        />

        {book.error &&
          (taken ? (
            <Alert tone="error" title="This time is no longer available">
              <p>{slotTakenMessage()}</p>
              <Button variant="secondary" size="small" onClick={close}>
                Choose another time
              </Button>
            </Alert>
          ) : (
            <ErrorAlert error={book.error} inlineFields={['patient', 'mode', 'reason']} />
          ))}

        <div className="btn-row row-end">
          <Button variant="secondary" onClick={close} disabled={book.isPending}>
            Cancel
          </Button>
          <Button
            type="submit"
            loading={book.isPending}
            disabled={taken || (!fixedPatient && targets.length === 0)}
          >
            Book appointment
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
