import { useMemo, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Appointment, ConsultMode, ConsultWaiting, Slot } from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Dialog,
  ErrorAlert,
  ErrorState,
  fieldError,
  LoadingState,
  Page,
  Select,
  TextArea,
  TextInput,
} from '../../components';
import { WeekGrid, WeekNav } from '../../components/Calendar';
import { hasRole } from '../../lib/roles';
import {
  addDaysToKey,
  formatClock,
  formatInZone,
  formatSlotTime,
  formatTimeRange,
  isDateKey,
  isoToLocalInput,
  localInputToIso,
  todayKey,
  zoneLabel,
} from '../../lib/zones';
import { useCurrentUser } from '../auth/session';
import { useAppointmentAction, useBook, type AppointmentAction } from '../booking/api';
import { canRecordOutcome, MODE_LABEL, modesFor, STATUS } from '../booking/status';
import { useWaitingNow } from '../consult/api';
import { consultPath, formatWhen, waitingAppointments, waitingNow } from '../consult/format';
import { JoinConsultLink } from '../consult/JoinConsultLink';
import { attendanceBadge } from '../notifications/format';
import { useDoctor } from '../directory/api';
import { canPrescribeFor, prescribePath } from '../prescriptions/format';
import { useAddException, useDoctorPatients, useDoctorWeek } from './api';
import { useDoctorChoice, type DoctorChoice } from './doctors';
import { DoctorPicker } from './SchedulePage';
import { buildAgenda, weekStartDay, type AgendaItem } from './week';

export function DoctorWeekPage() {
  const me = useCurrentUser();
  const choice = useDoctorChoice(me);
  const isDoctorOnly = hasRole(me, 'doctor') && !hasRole(me, 'center_admin');
  return (
    <Page
      title={isDoctorOnly ? 'My week' : 'Doctor week'}
      description="Appointments and free times, day by day."
    >
      <DoctorPicker {...choice} />
      {choice.selected && (
        <Week
          key={choice.selected.id}
          doctor={choice.selected}
          // Only the doctor takes part in their consults (an admin viewing the week does not).
          joinConsults={choice.selected.id === me.doctor}
        />
      )}
    </Page>
  );
}

type Notice = { tone: 'success' | 'warning'; title: string; text: string };

const ACTION_DONE: Record<AppointmentAction, string> = {
  confirm: 'Appointment confirmed',
  complete: 'Marked completed',
  'no-show': 'Marked as no-show',
  cancel: 'Appointment cancelled',
};

function Week({ doctor, joinConsults }: { doctor: DoctorChoice; joinConsults: boolean }) {
  const [params, setParams] = useSearchParams();
  const asked = params.get('start');
  const start = isDateKey(asked) ? asked : '';
  const week = useDoctorWeek(doctor.id, start);
  const action = useAppointmentAction();
  const [notice, setNotice] = useState<Notice | null>(null);
  const [booking, setBooking] = useState<Slot | null>(null);
  const [blocking, setBlocking] = useState(false);
  // Who is in one of my waiting rooms now (my own week only: an admin takes no part).
  const waitingQuery = useWaitingNow(joinConsults);
  const waiting = useMemo(() => waitingNow(waitingQuery.data ?? []), [waitingQuery.data]);
  const waitingIn = useMemo(() => waitingAppointments(waiting), [waiting]);

  const goTo = (key: string | null) => {
    setNotice(null);
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (key) next.set('start', key);
        else next.delete('start');
        return next;
      },
      { replace: true },
    );
  };

  const run = (appointment: Appointment, name: AppointmentAction) => {
    setNotice(null);
    action.mutate(
      { id: appointment.id, action: name },
      {
        onSuccess: (updated) =>
          setNotice({
            tone: 'success',
            title: ACTION_DONE[name],
            text: `${updated.patient.name}, ${formatSlotTime(updated.start, week.data?.timezone ?? 'UTC')}.`,
          }),
      },
    );
  };

  const waitingNotice =
    joinConsults && waiting.length > 0 ? (
      <WaitingNow entries={waiting} zone={week.data?.timezone ?? null} />
    ) : null;

  if (week.isPending) {
    return (
      <>
        {waitingNotice}
        <LoadingState label="Loading the week…" />
      </>
    );
  }
  if (week.isError) {
    return (
      <>
        {waitingNotice}
        <ErrorState error={week.error} onRetry={() => void week.refetch()} />
      </>
    );
  }

  const data = week.data;
  const zone = data.timezone;
  const startDay = weekStartDay(data);
  const agenda = new Map(buildAgenda(data).map((d) => [d.day, d.items]));
  const days = [...agenda.keys()];
  const today = todayKey(zone);
  const booked = data.appointments.filter((a) => a.status !== 'cancelled').length;

  return (
    <>
      {waitingNotice}
      <div className="row">
        <p className="meta-line" style={{ margin: 0 }}>
          Times in the center's time zone, <strong>{zoneLabel(zone)}</strong>. {booked}{' '}
          {booked === 1 ? 'appointment' : 'appointments'}, {data.free_slots.length} free{' '}
          {data.free_slots.length === 1 ? 'slot' : 'slots'} this week.
        </p>
        <span className="spacer" />
        <Button variant="secondary" size="small" onClick={() => setBlocking(true)}>
          Block time
        </Button>
      </div>
      {notice && (
        <Alert tone={notice.tone} title={notice.title}>
          <p>{notice.text}</p>
        </Alert>
      )}
      {action.error && <ErrorAlert error={action.error} title="That did not work" />}
      <section aria-label="Week" className="card">
        <WeekNav
          start={startDay}
          onPrevious={() => goTo(addDaysToKey(startDay, -7))}
          onNext={() => goTo(addDaysToKey(startDay, 7))}
          busy={week.isFetching}
        />
        <WeekGrid
          label="Days"
          days={days}
          today={today}
          renderDay={(day) => {
            const items = agenda.get(day) ?? [];
            if (items.length === 0) return <p className="week-day__empty">Nothing scheduled</p>;
            return (
              <ul className="week-day__list">
                {items.map((item) => (
                  <li key={itemKey(item)}>
                    <AgendaEntry
                      item={item}
                      zone={zone}
                      busy={action.isPending}
                      joinConsults={joinConsults}
                      waiting={item.kind === 'appointment' && waitingIn.has(item.appointment.id)}
                      onAction={run}
                      onBook={(slot) => {
                        setNotice(null);
                        setBooking(slot);
                      }}
                    />
                  </li>
                ))}
              </ul>
            );
          }}
        />
      </section>

      {booking && (
        <StaffBookingDialog
          key={booking.id}
          doctorId={doctor.id}
          slot={booking}
          zone={zone}
          onClose={() => setBooking(null)}
          onBooked={(appointment) => {
            setBooking(null);
            setNotice({
              tone: 'success',
              title: 'Patient booked',
              text: `${appointment.patient.name}, ${formatSlotTime(appointment.start, zone)} (${MODE_LABEL[appointment.mode].toLowerCase()}).`,
            });
          }}
        />
      )}
      {blocking && (
        <BlockTimeDialog
          doctorId={doctor.id}
          zone={zone}
          onClose={() => setBlocking(false)}
          onDone={(text) => {
            setBlocking(false);
            setNotice({ tone: 'success', title: 'Time blocked', text });
          }}
        />
      )}
    </>
  );
}

function itemKey(item: AgendaItem): string {
  if (item.kind === 'appointment') return `a-${item.appointment.id}`;
  if (item.kind === 'free') return `s-${item.slot.id}`;
  return `x-${item.exception.id}`;
}

/**
 * The prominent "Waiting now" notice: each person in one of the doctor's waiting rooms, with the
 * way into that consult (where the doctor admits them).
 */
function WaitingNow({ entries, zone }: { entries: ConsultWaiting[]; zone: string | null }) {
  const now = new Date();
  return (
    <Alert tone="warning" title="Waiting now">
      <ul className="waiting-now">
        {entries.map((entry) => (
          <li key={`${entry.consult}:${entry.user}`} className="row">
            <span>
              <strong>{entry.name}</strong> is waiting
              {zone && (
                <span className="muted small"> · since {formatWhen(entry.since, zone, now)}</span>
              )}
            </span>
            <ButtonLink to={consultPath(entry.consult)} size="small">
              Open consult<span className="sr-only"> with {entry.name}</span>
            </ButtonLink>
          </li>
        ))}
      </ul>
    </Alert>
  );
}

function AgendaEntry({
  item,
  zone,
  busy,
  joinConsults,
  waiting,
  onAction,
  onBook,
}: {
  item: AgendaItem;
  zone: string;
  busy: boolean;
  joinConsults: boolean;
  /** Someone is in this appointment's waiting room now. */
  waiting: boolean;
  onAction: (appointment: Appointment, action: AppointmentAction) => void;
  onBook: (slot: Slot) => void;
}) {
  const time = formatTimeRange(item.start, item.end, zone);
  const longWhen = `${formatClock(item.start, zone)} on ${formatInZone(item.start, zone, 'EEEE d MMMM')}`;
  if (item.kind === 'time_off') {
    return (
      <div className="agenda-item agenda-item--blocked">
        <span className="agenda-item__time">
          {formatSlotTime(item.start, zone)} – {formatSlotTime(item.end, zone)}
        </span>
        <div>Time off{item.exception.label && `: ${item.exception.label}`}</div>
      </div>
    );
  }
  if (item.kind === 'free') {
    return (
      <button
        type="button"
        className="slot-button slot-button--free"
        aria-label={`Book a patient at ${longWhen} (${MODE_LABEL[item.slot.mode].toLowerCase()})`}
        onClick={() => onBook(item.slot)}
      >
        {formatClock(item.start, zone)}
        <span className="slot-button__mode">Free</span>
      </button>
    );
  }
  const a = item.appointment;
  const status = STATUS[a.status];
  const about = (
    <span className="sr-only">
      {' '}
      for {a.patient.name} at {longWhen}
    </span>
  );
  const outcome = canRecordOutcome(a);
  return (
    <article
      className={
        waiting
          ? 'agenda-item agenda-item--appointment agenda-item--waiting'
          : 'agenda-item agenda-item--appointment'
      }
      aria-label={`${time} ${a.patient.name}${waiting ? ', waiting now' : ''}`}
    >
      <div className="row" style={{ gap: 'var(--space-2)' }}>
        <span className="agenda-item__time">{time}</span>
        <Badge tone={status.tone}>{status.label}</Badge>
        {waiting && <Badge tone="warning">Waiting</Badge>}
        {attendanceBadge(a) && <Badge tone="success">{attendanceBadge(a)}</Badge>}
      </div>
      <div>
        <strong>{a.patient.name}</strong>
      </div>
      <div className="muted">{MODE_LABEL[a.mode]}</div>
      {a.reason && <div>Reason: {a.reason}</div>}
      <div className="row" style={{ gap: 'var(--space-2)' }}>
        {joinConsults && <JoinConsultLink appointment={a} about={about} />}
        {joinConsults && canPrescribeFor(a) && (
          <ButtonLink variant="secondary" size="small" to={prescribePath(a.patient.id, a.id)}>
            Prescribe{about}
          </ButtonLink>
        )}
        {a.status === 'requested' && (
          <Button size="small" disabled={busy} onClick={() => onAction(a, 'confirm')}>
            Confirm{about}
          </Button>
        )}
        {outcome && (
          <>
            <Button size="small" disabled={busy} onClick={() => onAction(a, 'complete')}>
              Mark completed{about}
            </Button>
            <Button
              variant="danger-outline"
              size="small"
              disabled={busy}
              onClick={() => onAction(a, 'no-show')}
            >
              Mark no-show{about}
            </Button>
          </>
        )}
      </div>
    </article>
  );
}

type PatientKind = 'existing' | 'new';

function StaffBookingDialog({
  doctorId,
  slot,
  zone,
  onClose,
  onBooked,
}: {
  doctorId: string;
  slot: Slot;
  zone: string;
  onClose: () => void;
  onBooked: (appointment: Appointment) => void;
}) {
  const doctor = useDoctor(doctorId);
  const book = useBook();
  const [kind, setKind] = useState<PatientKind>('existing');
  const [search, setSearch] = useState('');
  const patients = useDoctorPatients(doctorId, search.trim());
  const [patient, setPatient] = useState('');
  const [person, setPerson] = useState({ first_name: '', last_name: '', phone: '', email: '' });
  const modes = modesFor(slot.mode, doctor.data?.modes);
  const [mode, setMode] = useState<ConsultMode | ''>('');
  const effectiveMode = modes.length === 1 ? (modes[0] ?? '') : mode;
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (kind === 'existing' && !patient) found.patient = 'Choose a patient.';
    if (kind === 'new' && !person.first_name.trim()) found.first_name = 'Enter a first name.';
    if (kind === 'new' && !person.last_name.trim()) found.last_name = 'Enter a last name.';
    if (!effectiveMode) found.mode = 'Choose online or in person.';
    setProblems(found);
    if (Object.keys(found).length > 0 || !effectiveMode) return;
    const newPatient = {
      first_name: person.first_name.trim(),
      last_name: person.last_name.trim(),
      ...(person.phone.trim() ? { phone: person.phone.trim() } : {}),
      ...(person.email.trim() ? { email: person.email.trim() } : {}),
    };
    book.mutate(
      {
        slot: slot.id,
        mode: effectiveMode,
        doctor: doctorId,
        ...(kind === 'existing' ? { patient } : { new_patient: newPatient }),
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      },
      { onSuccess: onBooked },
    );
  };

  const personField = (key: keyof typeof person) => ({
    value: person[key],
    onChange: (e: { target: { value: string } }) =>
      setPerson((p) => ({ ...p, [key]: e.target.value })),
    error: problems[key] ?? fieldError(book.error, `new_patient.${key}`),
  });

  return (
    <Dialog
      open
      title="Book a patient"
      busy={book.isPending}
      onClose={onClose}
      description={`${formatInZone(slot.start, zone, 'EEEE d MMMM')}, ${formatTimeRange(slot.start, slot.end, zone)} (${zone}).`}
    >
      <form onSubmit={submit} className="stack-sm" noValidate>
        <fieldset>
          <legend>Patient</legend>
          <div className="row" style={{ marginTop: 'var(--space-2)' }}>
            <label className="checkbox checkbox--compact">
              <input
                type="radio"
                name="patient-kind"
                checked={kind === 'existing'}
                onChange={() => setKind('existing')}
              />
              <span>Existing patient</span>
            </label>
            <label className="checkbox checkbox--compact">
              <input
                type="radio"
                name="patient-kind"
                checked={kind === 'new'}
                onChange={() => setKind('new')}
              />
              <span>New patient</span>
            </label>
          </div>
        </fieldset>
        {kind === 'existing' ? (
          <>
            <TextInput
              label="Search patients"
              type="search"
              hint="Patients this doctor has cared for. Type part of a name."
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            {patients.isError ? (
              <ErrorAlert error={patients.error} />
            ) : (
              <Select
                label="Patient"
                value={patient}
                onChange={(e) => setPatient(e.target.value)}
                placeholder={
                  patients.isPending
                    ? 'Loading patients…'
                    : (patients.data?.length ?? 0) === 0
                      ? 'No patients found'
                      : 'Choose a patient'
                }
                options={(patients.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
                error={problems.patient ?? fieldError(book.error, 'patient')}
              />
            )}
          </>
        ) : (
          <div className="form-grid form-grid--2">
            <TextInput
              label="First name"
              required
              autoComplete="off"
              {...personField('first_name')}
            />
            <TextInput
              label="Last name"
              required
              autoComplete="off"
              {...personField('last_name')}
            />
            <TextInput
              label="Phone"
              optional
              type="tel"
              autoComplete="off"
              {...personField('phone')}
            />
            <TextInput
              label="Email"
              optional
              type="email"
              autoComplete="off"
              {...personField('email')}
            />
          </div>
        )}
        {modes.length > 1 ? (
          <Select
            label="Consultation"
            value={mode}
            onChange={(e) => setMode(e.target.value as ConsultMode)}
            placeholder="Choose online or in person"
            options={modes.map((m) => ({ value: m, label: MODE_LABEL[m] }))}
            error={problems.mode ?? fieldError(book.error, 'mode')}
          />
        ) : (
          <p>
            Consultation: <strong>{modes[0] ? MODE_LABEL[modes[0]] : ''}</strong>
          </p>
        )}
        <TextArea
          label="Reason for visit"
          optional
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          error={fieldError(book.error, 'reason')}
        />
        {book.error && (
          <ErrorAlert
            error={book.error}
            inlineFields={['patient', 'mode', 'reason', 'new_patient']}
          />
        )}
        <div className="btn-row row-end">
          <Button variant="secondary" onClick={onClose} disabled={book.isPending}>
            Cancel
          </Button>
          <Button type="submit" loading={book.isPending}>
            Book appointment
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function nextHour(zone: string): string {
  const now = Date.now();
  const hour = 60 * 60_000;
  return isoToLocalInput(new Date(Math.ceil(now / hour) * hour), zone);
}

function BlockTimeDialog({
  doctorId,
  zone,
  onClose,
  onDone,
}: {
  doctorId: string;
  zone: string;
  onClose: () => void;
  onDone: (text: string) => void;
}) {
  const add = useAddException();
  const [starts, setStarts] = useState(() => nextHour(zone));
  const [ends, setEnds] = useState(() => {
    const start = localInputToIso(nextHour(zone), zone);
    return start ? isoToLocalInput(new Date(Date.parse(start) + 60 * 60_000), zone) : '';
  });
  const [label, setLabel] = useState('');
  const [problem, setProblem] = useState<Record<string, string>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const start = localInputToIso(starts, zone);
    const end = localInputToIso(ends, zone);
    const found: Record<string, string> = {};
    if (!start) found.start = 'Choose when it starts.';
    if (!end) found.end = 'Choose when it ends.';
    else if (start && end <= start) found.end = 'The end must be after the start.';
    setProblem(found);
    if (!start || !end || Object.keys(found).length > 0) return;
    add.mutate(
      {
        doctor: doctorId,
        kind: 'time_off',
        start,
        end,
        mode: 'both',
        slot_minutes: 30,
        label: label.trim(),
      },
      {
        onSuccess: (change) =>
          onDone(
            `${formatSlotTime(start, zone)} – ${formatSlotTime(end, zone)}: ${change.removed} free ${
              change.removed === 1 ? 'slot' : 'slots'
            } withdrawn.${
              change.conflicts.length
                ? ` ${change.conflicts.length} booked ${change.conflicts.length === 1 ? 'appointment stays' : 'appointments stay'} booked: see Schedule → Conflicts.`
                : ''
            }`,
          ),
      },
    );
  };

  return (
    <Dialog
      open
      title="Block time"
      busy={add.isPending}
      onClose={onClose}
      description={`Time off: free slots in this range are withdrawn. Times in ${zone}.`}
    >
      <form onSubmit={submit} className="stack-sm" noValidate>
        <TextInput
          label="Starts"
          type="datetime-local"
          required
          value={starts}
          onChange={(e) => setStarts(e.target.value)}
          error={problem.start ?? fieldError(add.error, 'start')}
        />
        <TextInput
          label="Ends"
          type="datetime-local"
          required
          min={starts}
          value={ends}
          onChange={(e) => setEnds(e.target.value)}
          error={problem.end ?? fieldError(add.error, 'end')}
        />
        <TextInput
          label="Label"
          optional
          maxLength={100}
          hint="Shown to staff only."
          value={label}
          onChange={(e) => setLabel(e.target.value)}
          error={fieldError(add.error, 'label')}
        />
        {add.error && <ErrorAlert error={add.error} inlineFields={['start', 'end', 'label']} />}
        <div className="btn-row row-end">
          <Button variant="secondary" onClick={onClose} disabled={add.isPending}>
            Cancel
          </Button>
          <Button type="submit" loading={add.isPending}>
            Block time
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
