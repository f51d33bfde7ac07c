import { useId, useState, type ReactNode } from 'react';
import {
  addDaysToKey,
  dayKeys,
  dayRangeIso,
  formatDayKey,
  todayKey,
  weekStartKey,
} from '../lib/zones';
import { Button } from './Button';

/** A week (Monday first) in `zone`, moved a week at a time; not before this week. */
export function useWeek(zone: string, initialStart?: string) {
  const thisWeek = weekStartKey(new Date(), zone);
  const [start, setStart] = useState(initialStart ?? thisWeek);
  const days = dayKeys(start, 7);
  return {
    start,
    days,
    range: dayRangeIso(start, 7, zone),
    isFirst: start <= thisWeek,
    previous: () => setStart((s) => (s <= thisWeek ? s : addDaysToKey(s, -7))),
    next: () => setStart((s) => addDaysToKey(s, 7)),
    goTo: setStart,
    today: todayKey(zone),
  };
}

export function weekLabel(start: string): string {
  const end = addDaysToKey(start, 6);
  return `${formatDayKey(start, 'd MMM')} – ${formatDayKey(end, 'd MMM yyyy')}`;
}

/** "Previous week" · "12 Mar – 18 Mar 2026" · "Next week". */
export function WeekNav({
  start,
  onPrevious,
  onNext,
  previousDisabled = false,
  busy = false,
}: {
  start: string;
  onPrevious: () => void;
  onNext: () => void;
  previousDisabled?: boolean;
  busy?: boolean;
}) {
  return (
    <div className="week-nav">
      <Button variant="secondary" size="small" onClick={onPrevious} disabled={previousDisabled}>
        <span aria-hidden="true">‹</span> Previous week
      </Button>
      <p className="week-nav__label" aria-live="polite" aria-busy={busy || undefined}>
        Week of {weekLabel(start)}
      </p>
      <Button variant="secondary" size="small" onClick={onNext}>
        Next week <span aria-hidden="true">›</span>
      </Button>
    </div>
  );
}

/**
 * Seven day columns on a desktop, stacked days on a phone. Each day is a list with its own
 * heading ("Mon 12 Mar"), so it can be found by name.
 */
export function WeekGrid({
  days,
  today,
  renderDay,
  label,
}: {
  days: string[];
  today?: string;
  renderDay: (day: string) => ReactNode;
  label: string;
}) {
  const prefix = useId();
  return (
    <ol className="week-grid" aria-label={label}>
      {days.map((day) => {
        const headingId = `${prefix}-${day}`;
        return (
          <li key={day} className={day === today ? 'week-day week-day--today' : 'week-day'}>
            <section aria-labelledby={headingId}>
              <h3 id={headingId}>
                {formatDayKey(day, 'EEE d MMM')}
                {day === today && <span className="sr-only"> (today)</span>}
              </h3>
              {renderDay(day)}
            </section>
          </li>
        );
      })}
    </ol>
  );
}
