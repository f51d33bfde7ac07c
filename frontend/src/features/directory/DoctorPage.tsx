import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import type { Appointment, Doctor, Slot, SlotMode } from '../../api/types';
import {
  Alert,
  Badge,
  Card,
  EmptyState,
  ErrorAlert,
  ErrorState,
  fieldError,
  LoadingState,
  Page,
  Select,
  TextInput,
  Button,
} from '../../components';
import { WeekGrid, WeekNav } from '../../components/Calendar';
import { todayInput } from '../../lib/dates';
import { formatDate } from '../../lib/format';
import {
  addDaysToKey,
  dayKeys,
  dayRangeIso,
  formatClock,
  formatInZone,
  formatSlotTime,
  groupByDay,
  isDateKey,
  todayKey,
  viewerTimeZone,
  weekStartKey,
  zoneLabel,
} from '../../lib/zones';
import { useJoinWaitlist } from '../booking/api';
import { BookingDialog, useBookingTargets, useDefaultTarget } from '../booking/BookingDialog';
import { MODE_LABEL } from '../booking/status';
import { useLanguages } from '../doctor/api';
import { useDoctor, useSlots } from './api';
import { DoctorAvatar, FeeList, Rating } from './DoctorSearchPage';

export function DoctorPage() {
  const { id = '' } = useParams();
  const doctor = useDoctor(id);
  if (doctor.isPending) {
    return (
      <Page title="Doctor">
        <LoadingState label="Loading the doctor's profile…" />
      </Page>
    );
  }
  if (doctor.isError) {
    return (
      <Page title="Doctor">
        <ErrorState
          error={doctor.error}
          title="We could not load this doctor"
          onRetry={() => void doctor.refetch()}
        />
        <p>
          <Link to="/doctors">Back to Find a doctor</Link>
        </p>
      </Page>
    );
  }
  return <DoctorProfile doctor={doctor.data} />;
}

function backToSearch(state: unknown): string {
  const search = (state as { search?: unknown } | null)?.search;
  return typeof search === 'string' && search.startsWith('?') ? `/doctors${search}` : '/doctors';
}

function DoctorProfile({ doctor }: { doctor: Doctor }) {
  const languages = useLanguages();
  const location = useLocation();
  const languageNames = doctor.languages.map(
    (code) => languages.data?.find((l) => l.code === code)?.name ?? code,
  );
  const { center } = doctor;
  const hasMap = center.latitude !== null && center.longitude !== null;
  const mapUrl = hasMap
    ? `https://www.openstreetmap.org/?mlat=${center.latitude}&mlon=${center.longitude}#map=17/${center.latitude}/${center.longitude}`
    : null;

  return (
    <Page
      title={doctor.name}
      description={doctor.specialties.map((s) => s.name).join(', ')}
      actions={
        <Link to={backToSearch(location.state)} className="btn btn--ghost btn--small">
          Back to search
        </Link>
      }
    >
      <Card>
        <div className="doctor-card">
          <DoctorAvatar doctor={doctor} />
          <div className="stack-sm" style={{ minWidth: 0 }}>
            <p style={{ margin: 0 }}>
              <Rating rating={doctor.rating} />
            </p>
            {doctor.bio ? (
              <p style={{ whiteSpace: 'pre-line' }}>{doctor.bio}</p>
            ) : (
              <p className="muted">No biography yet.</p>
            )}
            <dl className="details">
              <div>
                <dt>Fees</dt>
                <dd>
                  <FeeList doctor={doctor} />
                </dd>
              </div>
              <div>
                <dt>Consultations</dt>
                <dd>
                  <span className="row" style={{ gap: 'var(--space-2)' }}>
                    {doctor.modes.length === 0
                      ? 'Not bookable yet'
                      : doctor.modes.map((mode) => (
                          <Badge key={mode} tone="info">
                            {MODE_LABEL[mode]}
                          </Badge>
                        ))}
                  </span>
                </dd>
              </div>
              <div>
                <dt>Languages</dt>
                <dd>{languageNames.join(', ') || 'Not listed'}</dd>
              </div>
              {doctor.license_number && (
                <div>
                  <dt>License number</dt>
                  <dd>{doctor.license_number}</dd>
                </div>
              )}
            </dl>
          </div>
        </div>
      </Card>

      <Card title="Where">
        <dl className="details">
          <div>
            <dt>Center</dt>
            <dd>{center.name}</dd>
          </div>
          <div>
            <dt>Address</dt>
            <dd>
              {center.address}
              {center.city && `, ${center.city}`}
            </dd>
          </div>
          {center.phone && (
            <div>
              <dt>Phone</dt>
              <dd>
                <a href={`tel:${center.phone}`}>{center.phone}</a>
              </dd>
            </div>
          )}
          {mapUrl && (
            <div>
              <dt>Map</dt>
              <dd>
                <a href={mapUrl} target="_blank" rel="noopener noreferrer">
                  Open in OpenStreetMap
                  <span className="sr-only"> (opens in a new tab)</span>
                </a>{' '}
                <span className="meta-line">
                  ({center.latitude}, {center.longitude})
                </span>
              </dd>
            </div>
          )}
        </dl>
      </Card>

      <Availability doctor={doctor} />
      <WaitlistCard doctor={doctor} />
      <Reviews doctor={doctor} />
    </Page>
  );
}

/** The week shown: `?week=YYYY-MM-DD` (a Monday in the viewer's zone), else this week. */
function useWeekParam(zone: string) {
  const [params, setParams] = useSearchParams();
  const { state } = useLocation();
  const thisWeek = weekStartKey(new Date(), zone);
  const asked = params.get('week');
  const start =
    isDateKey(asked) && asked >= thisWeek
      ? weekStartKey(new Date(`${asked}T12:00:00Z`), 'UTC')
      : thisWeek;
  const go = (key: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (key === thisWeek) next.delete('week');
        else next.set('week', key);
        return next;
      },
      { replace: true, state },
    );
  return {
    start,
    isFirst: start <= thisWeek,
    previous: () => go(addDaysToKey(start, -7) < thisWeek ? thisWeek : addDaysToKey(start, -7)),
    next: () => go(addDaysToKey(start, 7)),
    goTo: (at: string) => go(weekStartKey(new Date(at), zone)),
  };
}

function Availability({ doctor }: { doctor: Doctor }) {
  const zone = viewerTimeZone();
  const week = useWeekParam(zone);
  const days = dayKeys(week.start, 7);
  const range = dayRangeIso(week.start, 7, zone);
  const slots = useSlots(doctor.id, range);
  const [chosen, setChosen] = useState<Slot | null>(null);
  const [booked, setBooked] = useState<Appointment | null>(null);
  const byDay = groupByDay(slots.data ?? [], zone, days);
  const today = todayKey(zone);
  const next = doctor.next_available;
  const nextIsLater = next && next.start >= range.to;

  return (
    <Card
      title="Book a time"
      description={
        <>
          Free times in your time zone, <strong>{zoneLabel(zone)}</strong>
          {doctor.center.timezone !== zone && <> (the center is in {doctor.center.timezone})</>}.
          Choose one to book; unless marked, a time can be online or in person.
        </>
      }
    >
      {booked && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone="success" title="Appointment booked">
            <p>
              {booked.patient.name} is booked with {booked.doctor.name} on{' '}
              {formatSlotTime(booked.start, zone)} ({MODE_LABEL[booked.mode].toLowerCase()}).
              {booked.status === 'requested' && ' The center will confirm it.'}
              {booked.status === 'awaiting_payment' &&
                ' The time is held for a short while: pay the fee to confirm it.'}
            </p>
            <p className="row" style={{ gap: 'var(--space-4)' }}>
              {booked.status === 'awaiting_payment' && <Link to="/payments">Pay now</Link>}
              <Link to="/appointments">View appointments</Link>
            </p>
          </Alert>
        </div>
      )}
      <WeekNav
        start={week.start}
        onPrevious={week.previous}
        onNext={week.next}
        previousDisabled={week.isFirst}
        busy={slots.isFetching}
      />
      {slots.isPending ? (
        <LoadingState label="Loading free times…" />
      ) : slots.isError ? (
        <ErrorState error={slots.error} onRetry={() => void slots.refetch()} />
      ) : (
        <>
          {slots.data.length === 0 && (
            <div>
              <EmptyState
                title="No free times this week"
                action={
                  nextIsLater ? (
                    <Button
                      variant="secondary"
                      className="btn--wrap"
                      onClick={() => week.goTo(next.start)}
                    >
                      Go to the next free time ({formatSlotTime(next.start, zone)})
                    </Button>
                  ) : undefined
                }
              >
                Try another week, or join the waitlist below.
              </EmptyState>
            </div>
          )}
          {slots.data.length > 0 && (
            <WeekGrid
              label="Free times"
              days={days}
              today={today}
              renderDay={(day) => {
                const list = byDay.get(day) ?? [];
                if (list.length === 0) return <p className="week-day__empty">No free times</p>;
                return (
                  <ul className="week-day__list">
                    {list.map((slot) => (
                      <li key={slot.id}>
                        <button
                          type="button"
                          className="slot-button"
                          aria-label={`${formatClock(slot.start, zone)} on ${formatInZone(slot.start, zone, 'EEEE d MMMM')}, ${MODE_LABEL[slot.mode].toLowerCase()}${slot.held_for_you ? ', held for you' : ''}`}
                          onClick={() => {
                            setBooked(null);
                            setChosen(slot);
                          }}
                        >
                          {formatClock(slot.start, zone)}
                          {(slot.held_for_you || slot.mode !== 'both') && (
                            <span className="slot-button__mode">
                              {slot.held_for_you ? 'Held for you' : MODE_LABEL[slot.mode]}
                            </span>
                          )}
                        </button>
                      </li>
                    ))}
                  </ul>
                );
              }}
            />
          )}
        </>
      )}
      {chosen && (
        <BookingDialog
          key={chosen.id}
          doctor={doctor}
          slot={chosen}
          onClose={() => setChosen(null)}
          onBooked={(appointment) => {
            setChosen(null);
            setBooked(appointment);
          }}
        />
      )}
    </Card>
  );
}

function WaitlistCard({ doctor }: { doctor: Doctor }) {
  const join = useJoinWaitlist();
  const targets = useBookingTargets();
  const defaultTarget = useDefaultTarget();
  const [target, setTarget] = useState(defaultTarget);
  const [earliest, setEarliest] = useState(todayInput());
  const [latest, setLatest] = useState('');
  const [mode, setMode] = useState<SlotMode>('both');
  const [joined, setJoined] = useState<string | null>(null);

  if (targets.length === 0) return null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setJoined(null);
    join.mutate(
      {
        doctor: doctor.id,
        earliest,
        latest,
        mode,
        ...(target ? { patient: target } : {}),
      },
      {
        onSuccess: (entry) =>
          setJoined(
            `${entry.patient.name} is on the waitlist from ${formatDate(entry.earliest)} to ${formatDate(entry.latest)}. If a time frees up, it is held for them and they get an email.`,
          ),
      },
    );
  };

  return (
    <Card
      title="Join the waitlist"
      description="Nothing that suits you? If a time in your dates frees up, we hold it for you for a short while and email you."
    >
      <form onSubmit={submit}>
        <div className="form-grid form-grid--2">
          {targets.length > 1 && (
            <Select
              label="Waitlist for"
              value={target}
              onChange={(e) => setTarget(e.target.value)}
              options={targets}
              error={fieldError(join.error, 'patient')}
            />
          )}
          <Select
            label="Consultation"
            value={mode}
            onChange={(e) => setMode(e.target.value as SlotMode)}
            options={[
              { value: 'both', label: 'Online or in person' },
              { value: 'online', label: MODE_LABEL.online },
              { value: 'in_person', label: MODE_LABEL.in_person },
            ]}
            error={fieldError(join.error, 'mode')}
          />
          <TextInput
            label="Earliest date"
            type="date"
            required
            min={todayInput()}
            value={earliest}
            onChange={(e) => setEarliest(e.target.value)}
            error={fieldError(join.error, 'earliest')}
          />
          <TextInput
            label="Latest date"
            type="date"
            required
            min={earliest || todayInput()}
            value={latest}
            onChange={(e) => setLatest(e.target.value)}
            error={fieldError(join.error, 'latest')}
          />
        </div>
        {join.error && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <ErrorAlert
              error={join.error}
              title={
                isApiError(join.error, 'already_waiting')
                  ? 'Already on this waitlist'
                  : 'Could not join the waitlist'
              }
              inlineFields={['patient', 'mode', 'earliest', 'latest']}
            >
              {isApiError(join.error, 'already_waiting') && (
                <p>
                  See it under <Link to="/appointments">Appointments</Link>.
                </p>
              )}
            </ErrorAlert>
          </div>
        )}
        {joined && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <Alert tone="success">{joined}</Alert>
          </div>
        )}
        <div className="btn-row">
          <Button type="submit" loading={join.isPending}>
            Join waitlist
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Reviews({ doctor }: { doctor: Doctor }) {
  return (
    <Card title="Reviews" description="From patients who had a completed appointment.">
      {doctor.reviews.length === 0 ? (
        <EmptyState title="No reviews yet" />
      ) : (
        <ul className="item-list">
          {doctor.reviews.map((review) => (
            <li key={review.id}>
              <div className="item-list__main">
                <p className="item-list__title">
                  <span className="rating" aria-hidden="true">
                    {'★'.repeat(review.rating)}
                    {'☆'.repeat(5 - review.rating)}
                  </span>
                  <span className="sr-only">{review.rating} out of 5</span>
                </p>
                {review.text && <p style={{ whiteSpace: 'pre-line' }}>{review.text}</p>}
                <p className="item-list__meta">
                  {review.author} · {formatDate(review.created_at)}
                </p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
