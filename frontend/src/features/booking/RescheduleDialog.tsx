import { useState, type FormEvent } from 'react';
import { isApiError } from '../../api/client';
import type { Appointment, ConsultMode, Slot } from '../../api/types';
import { Alert, Button, Dialog, ErrorAlert, LoadingState, Select } from '../../components';
import { useWeek, WeekGrid, WeekNav } from '../../components/Calendar';
import { ErrorState } from '../../components/ErrorState';
import {
  formatClock,
  formatInZone,
  formatSlotTime,
  groupByDay,
  viewerTimeZone,
  zoneLabel,
} from '../../lib/zones';
import { useSlots } from '../directory/api';
import { useReschedule } from './api';
import { slotTakenMessage } from './BookingDialog';
import { MODE_LABEL, modesFor } from './status';

/** Move an appointment to another free time of the same doctor. */
export function RescheduleDialog({
  appointment,
  onClose,
  onDone,
}: {
  appointment: Appointment;
  onClose: () => void;
  onDone: (moved: Appointment) => void;
}) {
  const zone = viewerTimeZone();
  const week = useWeek(zone);
  const slots = useSlots(appointment.doctor.id, week.range);
  const reschedule = useReschedule();
  const [chosen, setChosen] = useState<Slot | null>(null);
  const [mode, setMode] = useState<ConsultMode>(appointment.mode);
  const [problem, setProblem] = useState<string | null>(null);
  const byDay = groupByDay(slots.data ?? [], zone, week.days);
  const modes = chosen ? modesFor(chosen.mode, appointment.doctor.modes) : [];
  const effectiveMode = modes.includes(mode) ? mode : (modes[0] ?? mode);
  const taken =
    isApiError(reschedule.error, 'slot_taken') || isApiError(reschedule.error, 'slot_not_bookable');

  const choose = (slot: Slot) => {
    setProblem(null);
    reschedule.reset();
    setChosen(slot);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!chosen) {
      setProblem('Choose a new time first.');
      return;
    }
    reschedule.mutate(
      { id: appointment.id, slot: chosen.id, mode: effectiveMode },
      {
        onSuccess: onDone,
        onError: (error) => {
          if (isApiError(error, 'slot_taken') || isApiError(error, 'slot_not_bookable')) {
            setChosen(null);
          }
        },
      },
    );
  };

  return (
    <Dialog
      open
      wide
      title="Reschedule appointment"
      busy={reschedule.isPending}
      onClose={onClose}
      description={
        <>
          Now: {formatSlotTime(appointment.start, zone)} with {appointment.doctor.name}. Times in
          your time zone, {zoneLabel(zone)}.
        </>
      }
    >
      <form onSubmit={submit} className="stack-sm">
        <WeekNav
          start={week.start}
          onPrevious={week.previous}
          onNext={week.next}
          previousDisabled={week.isFirst}
          busy={slots.isFetching}
        />
        <fieldset>
          <legend className="sr-only">New time</legend>
          {slots.isPending ? (
            <LoadingState label="Loading free times…" />
          ) : slots.isError ? (
            <ErrorState error={slots.error} onRetry={() => void slots.refetch()} />
          ) : slots.data.length === 0 ? (
            <p className="muted">No free times this week. Try the next week.</p>
          ) : (
            <WeekGrid
              label="Free times"
              days={week.days}
              today={week.today}
              renderDay={(day) => {
                const list = byDay.get(day) ?? [];
                if (list.length === 0) return <p className="week-day__empty">No free times</p>;
                return (
                  <div className="slot-choices">
                    {list.map((slot) => (
                      <label key={slot.id} className="slot-choice">
                        <input
                          type="radio"
                          name="new-slot"
                          value={slot.id}
                          checked={chosen?.id === slot.id}
                          onChange={() => choose(slot)}
                          aria-label={`${formatClock(slot.start, zone)} on ${formatInZone(slot.start, zone, 'EEEE d MMMM')}, ${MODE_LABEL[slot.mode].toLowerCase()}`}
                        />
                        <span aria-hidden="true">{formatClock(slot.start, zone)}</span>
                      </label>
                    ))}
                  </div>
                );
              }}
            />
          )}
        </fieldset>

        {chosen && (
          <p>
            New time: <strong>{formatSlotTime(chosen.start, zone)}</strong>
          </p>
        )}
        {chosen && modes.length > 1 && (
          <Select
            label="Consultation"
            value={effectiveMode}
            onChange={(e) => setMode(e.target.value as ConsultMode)}
            options={modes.map((m) => ({ value: m, label: MODE_LABEL[m] }))}
          />
        )}
        {problem && <Alert tone="error">{problem}</Alert>}
        {reschedule.error &&
          (taken ? (
            <Alert tone="error" title="That time is no longer available">
              <p>{slotTakenMessage()} Your appointment has not changed.</p>
            </Alert>
          ) : (
            <ErrorAlert error={reschedule.error} />
          ))}
        <div className="btn-row row-end">
          <Button variant="secondary" onClick={onClose} disabled={reschedule.isPending}>
            Keep current time
          </Button>
          <Button type="submit" loading={reschedule.isPending}>
            Confirm new time
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
