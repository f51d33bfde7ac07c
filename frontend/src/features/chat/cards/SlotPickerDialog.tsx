import { useId, useMemo, useState } from 'react';
import type { Slot } from '../../../api/types';
import {
  Button,
  Checkbox,
  Dialog,
  EmptyState,
  ErrorState,
  LoadingState,
} from '../../../components';
import {
  addDaysToKey,
  dayKeys,
  dayRangeIso,
  formatClock,
  formatDayKey,
  formatSlotTime,
  groupByDay,
  todayKey,
  zoneLabel,
} from '../../../lib/zones';
import { MODE_LABEL } from '../../booking/status';
import { useDoctorSlots } from '../api';

/**
 * Free times of a doctor, a week at a time, in the viewer's zone: pick up to `max` (checkboxes)
 * or exactly one (`max` 1, radio buttons).
 */
export function SlotPickerDialog({
  open,
  title,
  description,
  doctorId,
  zone,
  max,
  submitLabel,
  onSubmit,
  onClose,
}: {
  open: boolean;
  title: string;
  description?: string;
  doctorId: string | null;
  zone: string;
  max: number;
  submitLabel: (count: number) => string;
  onSubmit: (slots: Slot[]) => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} title={title} description={description} onClose={onClose} wide>
      {open && (
        <Picker
          doctorId={doctorId}
          zone={zone}
          max={max}
          submitLabel={submitLabel}
          onSubmit={onSubmit}
          onCancel={onClose}
        />
      )}
    </Dialog>
  );
}

function Picker({
  doctorId,
  zone,
  max,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  doctorId: string | null;
  zone: string;
  max: number;
  submitLabel: (count: number) => string;
  onSubmit: (slots: Slot[]) => void;
  onCancel: () => void;
}) {
  const [week, setWeek] = useState(0);
  const [chosen, setChosen] = useState<Map<string, Slot>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  const groupName = useId();
  const start = addDaysToKey(todayKey(zone), week * 7);
  const days = useMemo(() => dayKeys(start, 7), [start]);
  const range = useMemo(() => dayRangeIso(start, 7, zone), [start, zone]);
  const slots = useDoctorSlots(doctorId, range);
  const byDay = useMemo(() => groupByDay(slots.data ?? [], zone, days), [slots.data, zone, days]);
  const single = max === 1;

  const toggle = (slot: Slot, on: boolean) => {
    setProblem(null);
    setChosen((current) => {
      const next = single ? new Map<string, Slot>() : new Map(current);
      if (on) next.set(slot.id, slot);
      else next.delete(slot.id);
      return next;
    });
  };

  const submit = () => {
    if (chosen.size === 0) {
      setProblem(single ? 'Choose a time.' : 'Choose at least one time.');
      return;
    }
    onSubmit([...chosen.values()].sort((a, b) => a.start.localeCompare(b.start)));
  };

  const free = (slots.data ?? []).length;

  return (
    <div className="stack">
      <div className="chat-picker__nav">
        <Button
          variant="secondary"
          size="small"
          onClick={() => setWeek((w) => Math.max(0, w - 1))}
          disabled={week === 0}
        >
          <span aria-hidden="true">‹</span> Earlier
        </Button>
        <p className="small" style={{ margin: 0 }} aria-live="polite">
          {formatDayKey(start, 'd MMM')} – {formatDayKey(addDaysToKey(start, 6), 'd MMM yyyy')}
        </p>
        <Button variant="secondary" size="small" onClick={() => setWeek((w) => Math.min(8, w + 1))}>
          Later <span aria-hidden="true">›</span>
        </Button>
      </div>
      <p className="muted small" style={{ margin: 0 }}>
        Times in your time zone, {zoneLabel(zone)}. {!single && `Choose up to ${max}. `}
        <span aria-live="polite">
          {chosen.size} {single ? '' : `of ${max} `}chosen
        </span>
      </p>
      {slots.isPending ? (
        <LoadingState label="Loading free times…" />
      ) : slots.isError ? (
        <ErrorState error={slots.error} onRetry={() => void slots.refetch()} />
      ) : free === 0 ? (
        <EmptyState title="No free times this week">Try a later week.</EmptyState>
      ) : (
        <div className="chat-picker">
          {days.map((day) => {
            const list = byDay.get(day) ?? [];
            if (list.length === 0) return null;
            return (
              <fieldset key={day}>
                <legend>{formatDayKey(day, 'EEEE d MMMM')}</legend>
                <div className="chat-picker__times">
                  {list.map((slot) => {
                    const checked = chosen.has(slot.id);
                    const label = `${formatClock(slot.start, zone)}–${formatClock(slot.end, zone)}`;
                    return single ? (
                      <label key={slot.id} className="checkbox checkbox--compact">
                        <input
                          type="radio"
                          name={groupName}
                          checked={checked}
                          onChange={(event) => toggle(slot, event.target.checked)}
                          aria-label={`${formatSlotTime(slot.start, zone)} (${MODE_LABEL[slot.mode]})`}
                        />
                        <span className="checkbox__text">
                          <span className="checkbox__label">{label}</span>
                          <span className="checkbox__description">{MODE_LABEL[slot.mode]}</span>
                        </span>
                      </label>
                    ) : (
                      <Checkbox
                        key={slot.id}
                        compact
                        checked={checked}
                        disabled={!checked && chosen.size >= max}
                        onChange={(event) => toggle(slot, event.target.checked)}
                        aria-label={`${formatSlotTime(slot.start, zone)} (${MODE_LABEL[slot.mode]})`}
                        label={label}
                        description={MODE_LABEL[slot.mode]}
                      />
                    );
                  })}
                </div>
              </fieldset>
            );
          })}
        </div>
      )}
      {problem && (
        <p className="field__error" role="alert">
          {problem}
        </p>
      )}
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button onClick={submit}>{submitLabel(chosen.size)}</Button>
      </div>
    </div>
  );
}
