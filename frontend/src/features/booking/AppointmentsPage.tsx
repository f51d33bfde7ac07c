import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import type { Appointment, WaitlistEntry } from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import {
  formatInZone,
  formatSlotTime,
  formatTimeRange,
  viewerTimeZone,
  zoneLabel,
} from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { MessageDoctorButton } from '../chat/MessageButton';
import { JoinConsultLink } from '../consult/JoinConsultLink';
import { useDoctor } from '../directory/api';
import {
  appointmentIcsUrl,
  useAppointmentAction,
  useAppointments,
  useLeaveWaitlist,
  useWaitlist,
  type When,
} from './api';
import { BookingDialog } from './BookingDialog';
import { appointmentsUrl, googleCalendarUrl, outlookCalendarUrl } from './calendarLinks';
import { RescheduleDialog } from './RescheduleDialog';
import { ReviewDialog } from './ReviewDialog';
import { isLateCancellation, MODE_LABEL, STATUS, WAITLIST_STATUS } from './status';

const TABS: { value: Exclude<When, 'all'>; label: string }[] = [
  { value: 'upcoming', label: 'Upcoming' },
  { value: 'past', label: 'Past' },
];

export function AppointmentsPage() {
  const { current } = useActingFor();
  const patientId = current?.patient.id ?? null;
  const name = current ? fullName(current.patient) : null;
  const title = name ? `${name}'s appointments` : 'Appointments';
  return (
    <Page
      title={title}
      heading={title}
      description="Your bookings and waitlists. Times are shown in your time zone."
      actions={
        <ButtonLink to="/doctors" variant="secondary" size="small">
          Find a doctor
        </ButtonLink>
      }
    >
      <AppointmentTabs key={patientId ?? 'me'} patientId={patientId} />
      <WaitlistCard key={`w-${patientId ?? 'me'}`} patientId={patientId} />
    </Page>
  );
}

type Notice = { tone: 'success' | 'warning'; title: string; text: string } | null;

function AppointmentTabs({ patientId }: { patientId: string | null }) {
  const [tab, setTab] = useState<Exclude<When, 'all'>>('upcoming');
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const [notice, setNotice] = useState<Notice>(null);

  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    event.preventDefault();
    const nextIndex = (index + delta + TABS.length) % TABS.length;
    const next = TABS[nextIndex];
    if (next) setTab(next.value);
    tabRefs.current[nextIndex]?.focus();
  };

  return (
    <Card>
      <div className="tabs" role="tablist" aria-label="Appointments">
        {TABS.map((t, index) => (
          <button
            key={t.value}
            ref={(el) => {
              tabRefs.current[index] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.value}`}
            aria-selected={tab === t.value}
            aria-controls={`panel-${t.value}`}
            tabIndex={tab === t.value ? 0 : -1}
            onClick={() => setTab(t.value)}
            onKeyDown={(e) => onKeyDown(e, index)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {notice && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone={notice.tone} title={notice.title}>
            <p>{notice.text}</p>
          </Alert>
        </div>
      )}
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <AppointmentList when={tab} patientId={patientId} onNotice={setNotice} />
      </div>
    </Card>
  );
}

function AppointmentList({
  when,
  patientId,
  onNotice,
}: {
  when: Exclude<When, 'all'>;
  patientId: string | null;
  onNotice: (notice: Notice) => void;
}) {
  const { current } = useActingFor();
  const appointments = useAppointments(when, patientId);
  const ended = useAccessEnded(current, appointments.error);
  const [rescheduling, setRescheduling] = useState<Appointment | null>(null);
  const [cancelling, setCancelling] = useState<Appointment | null>(null);
  const [reviewing, setReviewing] = useState<Appointment | null>(null);
  const cancel = useAppointmentAction();
  const zone = viewerTimeZone();

  if (ended) return <LoadingState />;
  if (appointments.isPending) return <LoadingState label="Loading appointments…" />;
  if (appointments.isError) {
    if (isScopeMissing(appointments.error) && current) {
      return (
        <Alert tone="info" title="You can't see these appointments">
          <p>
            Ask {fullName(current.patient)} to add "Book appointments" to the access they gave you.
          </p>
        </Alert>
      );
    }
    return <ErrorState error={appointments.error} onRetry={() => void appointments.refetch()} />;
  }
  if (appointments.data.length === 0) {
    return when === 'upcoming' ? (
      <EmptyState
        title="No upcoming appointments"
        action={<ButtonLink to="/doctors">Find a doctor</ButtonLink>}
      >
        Book a time with a doctor and it will show here.
      </EmptyState>
    ) : (
      <EmptyState title="No past appointments" />
    );
  }

  const late = cancelling ? isLateCancellation(cancelling) : false;

  return (
    <>
      <p className="meta-line" style={{ marginBottom: 'var(--space-3)' }}>
        Your time zone: {zoneLabel(zone)}
      </p>
      <ul className="item-list">
        {appointments.data.map((appointment) => (
          <AppointmentItem
            key={appointment.id}
            appointment={appointment}
            zone={zone}
            showPatient={!!patientId || appointment.patient.id !== appointment.booked_by.id}
            onReschedule={() => {
              onNotice(null);
              setRescheduling(appointment);
            }}
            onCancel={() => {
              onNotice(null);
              cancel.reset();
              setCancelling(appointment);
            }}
            onReview={() => {
              onNotice(null);
              setReviewing(appointment);
            }}
          />
        ))}
      </ul>

      {rescheduling && (
        <RescheduleDialog
          key={rescheduling.id}
          appointment={rescheduling}
          onClose={() => setRescheduling(null)}
          onDone={(moved) => {
            setRescheduling(null);
            onNotice({
              tone: 'success',
              title: 'Appointment rescheduled',
              text: `Your appointment with ${moved.doctor.name} is now on ${formatSlotTime(moved.start, zone)}.`,
            });
          }}
        />
      )}

      {reviewing && (
        <ReviewDialog
          key={reviewing.id}
          appointment={reviewing}
          onClose={() => setReviewing(null)}
          onDone={() => {
            setReviewing(null);
            onNotice({
              tone: 'success',
              title: 'Thank you for your review',
              text: 'It helps other patients choose a doctor.',
            });
          }}
        />
      )}

      <ConfirmDialog
        open={!!cancelling}
        title="Cancel appointment?"
        confirmLabel="Yes, cancel"
        cancelLabel="Keep appointment"
        destructive
        busy={cancel.isPending}
        onCancel={() => setCancelling(null)}
        onConfirm={() => {
          if (!cancelling) return;
          cancel.mutate(
            { id: cancelling.id, action: 'cancel' },
            {
              onSuccess: (cancelled) => {
                setCancelling(null);
                onNotice({
                  tone: cancelled.late_cancellation ? 'warning' : 'success',
                  title: 'Appointment cancelled',
                  text: `${cancelled.doctor.name}, ${formatSlotTime(cancelled.start, zone)}${
                    cancelled.late_cancellation
                      ? ': cancelled late (inside the center’s notice period).'
                      : '.'
                  }`,
                });
              },
            },
          );
        }}
      >
        {cancelling && (
          <div className="stack-sm">
            <p>
              {cancelling.doctor.name} on {formatSlotTime(cancelling.start, zone)}.
            </p>
            {late ? (
              <Alert tone="warning" title="This will be a late cancellation">
                <p>
                  The free cancellation period ended on{' '}
                  {formatSlotTime(cancelling.cancellation_deadline, zone)}. You can still cancel,
                  but it will be marked as late.
                </p>
              </Alert>
            ) : (
              <p className="muted">
                Free cancellation until {formatSlotTime(cancelling.cancellation_deadline, zone)}.
              </p>
            )}
            {cancel.error && <ErrorAlert error={cancel.error} />}
          </div>
        )}
      </ConfirmDialog>
    </>
  );
}

function AppointmentItem({
  appointment,
  zone,
  showPatient,
  onReschedule,
  onCancel,
  onReview,
}: {
  appointment: Appointment;
  zone: string;
  showPatient: boolean;
  onReschedule: () => void;
  onCancel: () => void;
  onReview: () => void;
}) {
  const status = STATUS[appointment.status];
  const when = formatInZone(appointment.start, zone, 'EEE d MMM yyyy');
  const time = formatTimeRange(appointment.start, appointment.end, zone);
  const headingId = `appointment-${appointment.id}`;
  const live =
    appointment.status !== 'cancelled' &&
    appointment.status !== 'completed' &&
    appointment.status !== 'no_show';
  const event = {
    start: appointment.start,
    end: appointment.end,
    appUrl: appointmentsUrl(window.location.origin),
  };
  const about = (
    <span className="sr-only">
      {' '}
      with {appointment.doctor.name} on {when}
    </span>
  );

  return (
    <li aria-labelledby={headingId}>
      <div className="item-list__main stack-sm">
        <div className="row" style={{ gap: 'var(--space-2)' }}>
          <h3
            id={headingId}
            className="item-list__title"
            style={{ fontSize: 'var(--font-size-base)', margin: 0 }}
          >
            {when}, {time}
          </h3>
          <Badge tone={status.tone}>{status.label}</Badge>
          {appointment.late_cancellation && <Badge tone="warning">Late cancellation</Badge>}
        </div>
        <p style={{ margin: 0 }}>
          <Link to={`/doctors/${appointment.doctor.id}`}>{appointment.doctor.name}</Link>
          {appointment.doctor.specialties.length > 0 &&
            ` · ${appointment.doctor.specialties.map((s) => s.name).join(', ')}`}
        </p>
        <p className="item-list__meta">
          {MODE_LABEL[appointment.mode]}
          {appointment.mode === 'in_person'
            ? ` at ${appointment.doctor.center.name}, ${appointment.doctor.center.address}`
            : ` · ${appointment.doctor.center.name}`}
        </p>
        {showPatient && (
          <p className="item-list__meta">
            For {appointment.patient.name}
            {appointment.booked_by.id !== appointment.patient.id &&
              ` · booked by ${appointment.booked_by.name}`}
          </p>
        )}
        {appointment.reason && <p className="item-list__meta">Reason: {appointment.reason}</p>}
        {appointment.timezone &&
          formatTimeRange(appointment.start, appointment.end, appointment.timezone) !== time && (
            <p className="item-list__meta">
              At the center:{' '}
              {formatTimeRange(appointment.start, appointment.end, appointment.timezone)} (
              {appointment.timezone})
            </p>
          )}
        {live && (
          <p className="row small" style={{ gap: 'var(--space-2) var(--space-4)', margin: 0 }}>
            <a href={appointmentIcsUrl(appointment.id)} download>
              Download .ics{about}
            </a>
            <a href={googleCalendarUrl(event)} target="_blank" rel="noopener noreferrer">
              Add to Google Calendar<span className="sr-only"> (opens in a new tab)</span>
            </a>
            <a href={outlookCalendarUrl(event)} target="_blank" rel="noopener noreferrer">
              Add to Outlook<span className="sr-only"> (opens in a new tab)</span>
            </a>
          </p>
        )}
      </div>
      <ActionRow>
        <JoinConsultLink appointment={appointment} about={about} />
        {appointment.status === 'awaiting_payment' && (
          // The fee's bill (with its Pay button) is on the bills page, and in the chat.
          <ButtonLink to="/payments" size="small">
            Pay to confirm{about}
          </ButtonLink>
        )}
        {appointment.can_reschedule && (
          <Button variant="secondary" size="small" onClick={onReschedule}>
            Reschedule{about}
          </Button>
        )}
        {appointment.can_cancel && (
          <Button variant="danger-outline" size="small" onClick={onCancel}>
            Cancel appointment{about}
          </Button>
        )}
        {appointment.can_review && (
          <Button variant="secondary" size="small" onClick={onReview}>
            Leave a review{about}
          </Button>
        )}
        <MessageDoctorButton
          doctorId={appointment.doctor.id}
          patientId={appointment.patient.id}
          label="Message the doctor"
          context={`${appointment.doctor.name} about the appointment on ${when}`}
        />
      </ActionRow>
    </li>
  );
}

function ActionRow({ children }: { children: ReactNode }) {
  return (
    <div className="row" style={{ gap: 'var(--space-2)' }}>
      {children}
    </div>
  );
}

function WaitlistCard({ patientId }: { patientId: string | null }) {
  const me = useCurrentUser();
  const waitlist = useWaitlist(patientId ?? me.id);
  const leave = useLeaveWaitlist();
  const [booking, setBooking] = useState<WaitlistEntry | null>(null);
  const [booked, setBooked] = useState<Appointment | null>(null);
  const zone = viewerTimeZone();
  const live = (waitlist.data ?? []).filter(
    (entry) => entry.status === 'waiting' || entry.status === 'offered',
  );

  return (
    <Card
      title="Waitlist"
      description="When a time frees up in your dates, it is held for you for a short while."
    >
      {booked && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone="success" title="Held time booked">
            <p>
              {booked.doctor.name} on {formatSlotTime(booked.start, zone)}. It is listed under
              Upcoming.
            </p>
          </Alert>
        </div>
      )}
      {leave.error && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <ErrorAlert error={leave.error} />
        </div>
      )}
      {waitlist.isPending ? (
        <LoadingState label="Loading waitlist…" />
      ) : waitlist.isError ? (
        isScopeMissing(waitlist.error) ? (
          <p className="muted">You don't have permission to see their waitlist.</p>
        ) : (
          <ErrorState error={waitlist.error} onRetry={() => void waitlist.refetch()} />
        )
      ) : live.length === 0 ? (
        <EmptyState title="You are not on any waitlist">
          On a doctor's page, use "Join waitlist" when no time suits you.
        </EmptyState>
      ) : (
        <ul className="item-list">
          {live.map((entry) => {
            const status = WAITLIST_STATUS[entry.status];
            return (
              <li key={entry.id}>
                <div className="item-list__main stack-sm">
                  <div className="row" style={{ gap: 'var(--space-2)' }}>
                    <p className="item-list__title" style={{ margin: 0 }}>
                      {entry.doctor.name}
                    </p>
                    <Badge tone={status.tone}>{status.label}</Badge>
                  </div>
                  <p className="item-list__meta">
                    {formatDate(entry.earliest)} – {formatDate(entry.latest)} ·{' '}
                    {MODE_LABEL[entry.mode]}
                    {patientId ? ` · for ${entry.patient.name}` : ''}
                  </p>
                  {entry.offer && entry.status === 'offered' && (
                    <Alert tone="success" title="A time is held for you">
                      <p>
                        {formatSlotTime(entry.offer.start, zone)} (
                        {MODE_LABEL[entry.offer.mode].toLowerCase()}). Book it before{' '}
                        {formatInZone(entry.offer.expires_at, zone, 'HH:mm')} or it goes to the next
                        person waiting.
                      </p>
                      <Button size="small" onClick={() => setBooking(entry)}>
                        Book this held slot before{' '}
                        {formatInZone(entry.offer.expires_at, zone, 'HH:mm')}
                      </Button>
                    </Alert>
                  )}
                </div>
                <Button
                  variant="ghost"
                  size="small"
                  loading={leave.isPending && leave.variables === entry.id}
                  disabled={leave.isPending}
                  onClick={() => leave.mutate(entry.id)}
                >
                  Leave waitlist<span className="sr-only"> for {entry.doctor.name}</span>
                </Button>
              </li>
            );
          })}
        </ul>
      )}
      {booking?.offer && (
        <HeldSlotBooking
          key={booking.id}
          entry={booking}
          onClose={() => setBooking(null)}
          onBooked={(appointment) => {
            setBooking(null);
            setBooked(appointment);
          }}
        />
      )}
    </Card>
  );
}

function HeldSlotBooking({
  entry,
  onClose,
  onBooked,
}: {
  entry: WaitlistEntry;
  onClose: () => void;
  onBooked: (appointment: Appointment) => void;
}) {
  const me = useCurrentUser();
  const doctor = useDoctor(entry.doctor.id);
  if (!entry.offer) return null;
  if (doctor.isPending) return <LoadingState label="Loading…" />;
  if (doctor.isError) return <ErrorAlert error={doctor.error} />;
  return (
    <BookingDialog
      doctor={doctor.data}
      slot={{
        id: entry.offer.slot,
        start: entry.offer.start,
        end: entry.offer.end,
        mode: entry.offer.mode,
      }}
      fixedPatient={{
        id: entry.patient.id,
        name: entry.patient.name,
        self: entry.patient.id === me.id,
      }}
      onClose={onClose}
      onBooked={onBooked}
    />
  );
}
