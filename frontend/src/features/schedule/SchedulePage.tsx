import { useState, type FormEvent } from 'react';
import { isApiError } from '../../api/client';
import type {
  Appointment,
  ExceptionKind,
  Rule,
  ScheduleChange,
  ScheduleException,
  SlotMode,
} from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  ConfirmDialog,
  EmptyState,
  ErrorAlert,
  ErrorState,
  fieldError,
  LoadingState,
  Page,
  Select,
  TextInput,
} from '../../components';
import { formatDate } from '../../lib/format';
import {
  formatInZone,
  formatSlotTime,
  formatTimeRange,
  isoToLocalInput,
  localInputToIso,
  todayKey,
  zoneLabel,
} from '../../lib/zones';
import { useCurrentUser } from '../auth/session';
import { MODE_LABEL, STATUS } from '../booking/status';
import { useDoctor } from '../directory/api';
import {
  useAddException,
  useConflicts,
  useDeleteException,
  useDeleteRule,
  useExceptions,
  usePreviewRule,
  usePublishRule,
  useRules,
} from './api';
import { useDoctorChoice, type DoctorChoice } from './doctors';
import {
  emptyRuleForm,
  ruleFormToInput,
  ruleSummary,
  WEEKDAYS,
  type RuleForm,
  type RuleFormErrors,
} from './rules';

const MODE_OPTIONS: { value: SlotMode; label: string }[] = [
  { value: 'both', label: MODE_LABEL.both },
  { value: 'online', label: MODE_LABEL.online },
  { value: 'in_person', label: MODE_LABEL.in_person },
];

export function SchedulePage() {
  const me = useCurrentUser();
  const choice = useDoctorChoice(me);
  return (
    <Page
      title="Schedule"
      description="Weekly availability, time off and extra hours. Patients can book the slots these publish."
    >
      <DoctorPicker {...choice} />
      {choice.selected && <DoctorSchedule key={choice.selected.id} doctor={choice.selected} />}
    </Page>
  );
}

export function DoctorPicker({
  choices,
  selected,
  select,
  loading,
  error,
  retry,
}: ReturnType<typeof useDoctorChoice>) {
  if (loading) return <LoadingState label="Loading doctors…" />;
  if (error) return <ErrorState error={error} onRetry={retry} />;
  if (choices.length === 0) {
    return (
      <EmptyState title="No doctors yet">
        Invite doctors to your center first; their schedules appear here.
      </EmptyState>
    );
  }
  if (choices.length === 1) return null;
  return (
    <div style={{ maxWidth: '24rem' }}>
      <Select
        label="Doctor"
        value={selected?.id ?? ''}
        onChange={(e) => select(e.target.value)}
        options={choices.map((c) => ({ value: c.id, label: c.name }))}
      />
    </div>
  );
}

function DoctorSchedule({ doctor }: { doctor: DoctorChoice }) {
  const detail = useDoctor(doctor.id);
  if (detail.isPending) return <LoadingState label="Loading schedule…" />;
  if (detail.isError)
    return <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />;
  const zone = detail.data.center.timezone || 'UTC';
  return (
    <>
      <Alert tone="info">
        <p>
          Schedule of <strong>{detail.data.name}</strong> at {detail.data.center.name}. Times are
          the center's local time, <strong>{zoneLabel(zone)}</strong>.
        </p>
      </Alert>
      <RulesCard doctorId={doctor.id} zone={zone} />
      <AddRuleCard doctorId={doctor.id} zone={zone} />
      <ExceptionsCard doctorId={doctor.id} zone={zone} />
      <ConflictsCard doctorId={doctor.id} zone={zone} />
    </>
  );
}

function ChangeSummary({ change, zone }: { change: ScheduleChange; zone: string }) {
  return (
    <div className="stack-sm">
      <p>
        {change.added} {change.added === 1 ? 'slot' : 'slots'} added, {change.removed}{' '}
        {change.removed === 1 ? 'slot' : 'slots'} removed.
      </p>
      {change.conflicts.length > 0 && (
        <>
          <p>
            These booked appointments are no longer covered. They stay booked: reschedule them with
            the patient.
          </p>
          <AppointmentConflicts appointments={change.conflicts} zone={zone} />
        </>
      )}
    </div>
  );
}

function AppointmentConflicts({
  appointments,
  zone,
}: {
  appointments: Appointment[];
  zone: string;
}) {
  return (
    <ul className="item-list">
      {appointments.map((a) => (
        <li key={a.id}>
          <div className="item-list__main">
            <p className="item-list__title">
              {formatSlotTime(a.start, zone)} · {a.patient.name}
            </p>
            <p className="item-list__meta">
              {MODE_LABEL[a.mode]} ·{' '}
              <Badge tone={STATUS[a.status].tone}>{STATUS[a.status].label}</Badge>
            </p>
          </div>
        </li>
      ))}
    </ul>
  );
}

function ruleDetails(rule: Rule): string {
  const parts = [
    `${rule.slot_minutes} min slots`,
    rule.buffer_minutes ? `${rule.buffer_minutes} min buffer` : null,
    MODE_LABEL[rule.mode],
    `from ${formatDate(rule.effective_from)}`,
    rule.effective_until ? `until ${formatDate(rule.effective_until)}` : 'no end date',
    `${rule.min_notice_minutes} min notice`,
    `bookable ${rule.booking_horizon_days} days ahead`,
  ];
  return parts.filter(Boolean).join(' · ');
}

function RulesCard({ doctorId, zone }: { doctorId: string; zone: string }) {
  const rules = useRules(doctorId);
  const remove = useDeleteRule();
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [result, setResult] = useState<ScheduleChange | null>(null);

  return (
    <Card title="Availability rules" description="Weekly patterns of bookable time.">
      {result && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone={result.conflicts.length ? 'warning' : 'success'} title="Rule deleted">
            <ChangeSummary change={result} zone={zone} />
          </Alert>
        </div>
      )}
      {rules.isPending ? (
        <LoadingState label="Loading rules…" />
      ) : rules.isError ? (
        <ErrorState error={rules.error} onRetry={() => void rules.refetch()} />
      ) : rules.data.length === 0 ? (
        <EmptyState title="No availability yet">
          Add a rule below to publish bookable times.
        </EmptyState>
      ) : (
        <ul className="item-list" aria-label="Rules">
          {rules.data.map((rule) => (
            <li key={rule.id}>
              <div className="item-list__main">
                <p className="item-list__title">{ruleSummary(rule)}</p>
                <p className="item-list__meta">{ruleDetails(rule)}</p>
              </div>
              <Button
                variant="danger-outline"
                size="small"
                onClick={() => {
                  remove.reset();
                  setResult(null);
                  setDeleting(rule);
                }}
              >
                Delete rule<span className="sr-only"> {ruleSummary(rule)}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete this rule?"
        confirmLabel="Yes, delete rule"
        cancelLabel="Keep rule"
        destructive
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          if (!deleting) return;
          remove.mutate(deleting.id, {
            onSuccess: (change) => {
              setResult(change);
              setDeleting(null);
            },
          });
        }}
      >
        {deleting && (
          <div className="stack-sm">
            <p>
              {ruleSummary(deleting)}. Its free slots are withdrawn. Booked appointments stay booked
              and are listed as conflicts for rescheduling.
            </p>
            {remove.error && <ErrorAlert error={remove.error} />}
          </div>
        )}
      </ConfirmDialog>
    </Card>
  );
}

function AddRuleCard({ doctorId, zone }: { doctorId: string; zone: string }) {
  const rules = useRules(doctorId);
  const preview = usePreviewRule();
  const publish = usePublishRule();
  const [form, setForm] = useState<RuleForm>(() => emptyRuleForm(todayKey(zone)));
  const [errors, setErrors] = useState<RuleFormErrors>({});
  const [published, setPublished] = useState<ScheduleChange | null>(null);
  const serverError = publish.error ?? preview.error;

  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
    preview.reset();
    publish.reset();
  };
  const toggleDay = (day: number, on: boolean) =>
    set('weekdays', on ? [...form.weekdays, day] : form.weekdays.filter((d) => d !== day));

  const build = () => {
    const result = ruleFormToInput(form, doctorId);
    if (!result.ok) {
      setErrors(result.errors);
      return null;
    }
    setErrors({});
    return result.value;
  };

  const onPreview = () => {
    setPublished(null);
    publish.reset();
    const input = build();
    if (input) preview.mutate(input);
  };

  const onPublish = (event: FormEvent) => {
    event.preventDefault();
    setPublished(null);
    const input = build();
    if (!input) return;
    publish.mutate(input, {
      onSuccess: (change) => {
        setPublished(change);
        preview.reset();
        setForm(emptyRuleForm(todayKey(zone)));
      },
    });
  };

  const error = (key: keyof RuleForm) => errors[key] ?? fieldError(serverError, key);
  const overlap = isApiError(serverError, 'rule_overlap') ? serverError : null;
  const otherId = overlap ? (overlap.fieldErrors.rule?.[0] ?? '') : '';
  const other = rules.data?.find((r) => r.id === otherId);

  return (
    <Card
      title="Add availability rule"
      description="Times are the center's local wall-clock times; slots follow daylight saving automatically."
    >
      <form onSubmit={onPublish} noValidate>
        <fieldset aria-describedby={error('weekdays') ? 'weekdays-error' : undefined}>
          <legend>Weekdays</legend>
          <div className="weekday-choices" style={{ marginTop: 'var(--space-2)' }}>
            {WEEKDAYS.map((day) => (
              <Checkbox
                key={day.value}
                compact
                label={day.label}
                checked={form.weekdays.includes(day.value)}
                onChange={(e) => toggleDay(day.value, e.target.checked)}
              />
            ))}
          </div>
          {error('weekdays') && (
            <p className="field__error" id="weekdays-error" style={{ marginTop: 'var(--space-2)' }}>
              {error('weekdays')}
            </p>
          )}
        </fieldset>
        <div className="form-grid form-grid--3" style={{ marginTop: 'var(--space-4)' }}>
          <TextInput
            label="Start time"
            type="time"
            required
            value={form.start_time}
            onChange={(e) => set('start_time', e.target.value)}
            error={error('start_time')}
          />
          <TextInput
            label="End time"
            type="time"
            required
            value={form.end_time}
            onChange={(e) => set('end_time', e.target.value)}
            error={error('end_time')}
          />
          <Select
            label="Consultation"
            value={form.mode}
            onChange={(e) => set('mode', e.target.value as SlotMode)}
            options={MODE_OPTIONS}
            error={error('mode')}
          />
          <TextInput
            label="Slot length"
            type="number"
            min={5}
            max={480}
            suffix="min"
            value={form.slot_minutes}
            onChange={(e) => set('slot_minutes', e.target.value)}
            error={error('slot_minutes')}
          />
          <TextInput
            label="Buffer between slots"
            type="number"
            min={0}
            suffix="min"
            value={form.buffer_minutes}
            onChange={(e) => set('buffer_minutes', e.target.value)}
            error={error('buffer_minutes')}
          />
          <TextInput
            label="Minimum notice"
            type="number"
            min={0}
            suffix="min"
            hint="How long before a slot booking closes."
            value={form.min_notice_minutes}
            onChange={(e) => set('min_notice_minutes', e.target.value)}
            error={error('min_notice_minutes')}
          />
          <TextInput
            label="Booking horizon"
            type="number"
            min={1}
            suffix="days"
            hint="How far ahead patients can book."
            value={form.booking_horizon_days}
            onChange={(e) => set('booking_horizon_days', e.target.value)}
            error={error('booking_horizon_days')}
          />
          <TextInput
            label="Effective from"
            type="date"
            required
            value={form.effective_from}
            onChange={(e) => set('effective_from', e.target.value)}
            error={error('effective_from')}
          />
          <TextInput
            label="Effective until"
            type="date"
            optional
            min={form.effective_from}
            value={form.effective_until}
            onChange={(e) => set('effective_until', e.target.value)}
            error={error('effective_until')}
          />
        </div>

        {preview.data && <PreviewResult preview={preview.data} zone={zone} />}

        {overlap ? (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <Alert tone="error" title="This rule overlaps another rule">
              <p>
                {other
                  ? `It shares days and hours with “${ruleSummary(other)}” (${ruleDetails(other)}).`
                  : overlap.message}{' '}
                Change the days, hours or dates, or delete the other rule first.
              </p>
            </Alert>
          </div>
        ) : (
          serverError && (
            <div style={{ marginTop: 'var(--space-4)' }}>
              <ErrorAlert
                error={serverError}
                inlineFields={[...Object.keys(emptyRuleForm('')), 'doctor']}
              />
            </div>
          )
        )}
        {published && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <Alert tone={published.conflicts.length ? 'warning' : 'success'} title="Rule published">
              <ChangeSummary change={published} zone={zone} />
            </Alert>
          </div>
        )}
        <div className="btn-row">
          <Button variant="secondary" onClick={onPreview} loading={preview.isPending}>
            Preview slots
          </Button>
          <Button type="submit" loading={publish.isPending}>
            Publish rule
          </Button>
        </div>
      </form>
    </Card>
  );
}

function PreviewResult({
  preview,
  zone,
}: {
  preview: {
    slots: { start: string; end: string; mode: SlotMode }[];
    count: number;
    conflicts: Appointment[];
  };
  zone: string;
}) {
  const first = preview.slots.slice(0, 12);
  return (
    <section
      aria-label="Preview"
      className="stack-sm"
      style={{
        marginTop: 'var(--space-4)',
        padding: 'var(--space-4)',
        background: 'var(--color-surface-muted)',
        borderRadius: 'var(--radius-md)',
      }}
    >
      <p role="status" style={{ margin: 0 }}>
        <strong>
          {preview.count} {preview.count === 1 ? 'slot' : 'slots'}
        </strong>{' '}
        would be published. Nothing is saved until you publish.
      </p>
      {first.length > 0 && (
        <>
          <p className="meta-line">First slots:</p>
          <ul className="chips">
            {first.map((slot) => (
              <li key={slot.start} className="chip">
                {formatInZone(slot.start, zone, 'EEE d MMM')},{' '}
                {formatTimeRange(slot.start, slot.end, zone)}
              </li>
            ))}
          </ul>
        </>
      )}
      {preview.conflicts.length > 0 ? (
        <>
          <p>
            <strong>{preview.conflicts.length}</strong> booked{' '}
            {preview.conflicts.length === 1 ? 'appointment' : 'appointments'} would no longer be
            covered:
          </p>
          <AppointmentConflicts appointments={preview.conflicts} zone={zone} />
        </>
      ) : (
        <p className="meta-line">No booked appointment is affected.</p>
      )}
    </section>
  );
}

const KIND_LABEL: Record<ExceptionKind, string> = {
  time_off: 'Time off',
  extra_hours: 'Extra hours',
};

function ExceptionsCard({ doctorId, zone }: { doctorId: string; zone: string }) {
  const exceptions = useExceptions(doctorId);
  const add = useAddException();
  const remove = useDeleteException();
  const [deleting, setDeleting] = useState<ScheduleException | null>(null);
  const [result, setResult] = useState<{ title: string; change: ScheduleChange } | null>(null);
  const [kind, setKind] = useState<ExceptionKind>('time_off');
  const [starts, setStarts] = useState('');
  const [ends, setEnds] = useState('');
  const [mode, setMode] = useState<SlotMode>('both');
  const [slotMinutes, setSlotMinutes] = useState('30');
  const [label, setLabel] = useState('');
  const [problem, setProblem] = useState<Record<string, string>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    const start = localInputToIso(starts, zone);
    const end = localInputToIso(ends, zone);
    const problems: Record<string, string> = {};
    if (!start) problems.start = 'Choose when it starts.';
    if (!end) problems.end = 'Choose when it ends.';
    else if (start && end <= start) problems.end = 'The end must be after the start.';
    setProblem(problems);
    if (!start || !end || Object.keys(problems).length > 0) return;
    add.mutate(
      {
        doctor: doctorId,
        kind,
        start,
        end,
        mode: kind === 'extra_hours' ? mode : 'both',
        slot_minutes: kind === 'extra_hours' ? Number(slotMinutes) || 30 : 30,
        label: label.trim(),
      },
      {
        onSuccess: (change) => {
          setResult({ title: `${KIND_LABEL[kind]} added`, change });
          setStarts('');
          setEnds('');
          setLabel('');
        },
      },
    );
  };

  return (
    <Card
      title="Time off and extra hours"
      description="One-off changes: time off withdraws free slots in its range; extra hours add slots."
    >
      {result && (
        <div style={{ marginBottom: 'var(--space-4)' }}>
          <Alert tone={result.change.conflicts.length ? 'warning' : 'success'} title={result.title}>
            <ChangeSummary change={result.change} zone={zone} />
          </Alert>
        </div>
      )}
      {exceptions.isPending ? (
        <LoadingState label="Loading…" />
      ) : exceptions.isError ? (
        <ErrorState error={exceptions.error} onRetry={() => void exceptions.refetch()} />
      ) : exceptions.data.length === 0 ? (
        <EmptyState title="No time off or extra hours" />
      ) : (
        <ul className="item-list" aria-label="Exceptions">
          {exceptions.data.map((exception) => (
            <li key={exception.id}>
              <div className="item-list__main">
                <p className="item-list__title">
                  <Badge tone={exception.kind === 'time_off' ? 'neutral' : 'info'}>
                    {KIND_LABEL[exception.kind]}
                  </Badge>{' '}
                  {formatSlotTime(exception.start, zone)} – {formatSlotTime(exception.end, zone)}
                </p>
                <p className="item-list__meta">
                  {exception.kind === 'extra_hours' &&
                    `${MODE_LABEL[exception.mode]} · ${exception.slot_minutes} min slots`}
                  {exception.label &&
                    `${exception.kind === 'extra_hours' ? ' · ' : ''}${exception.label}`}
                </p>
              </div>
              <Button
                variant="danger-outline"
                size="small"
                onClick={() => {
                  remove.reset();
                  setDeleting(exception);
                }}
              >
                Delete<span className="sr-only"> {KIND_LABEL[exception.kind].toLowerCase()}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}

      <hr className="divider" />
      <h3>Add time off or extra hours</h3>
      <form onSubmit={submit} noValidate>
        <div className="form-grid form-grid--3">
          <Select
            label="Kind"
            value={kind}
            onChange={(e) => setKind(e.target.value as ExceptionKind)}
            options={[
              { value: 'time_off', label: 'Time off' },
              { value: 'extra_hours', label: 'Extra hours' },
            ]}
          />
          <TextInput
            label="Starts"
            type="datetime-local"
            required
            value={starts}
            onChange={(e) => {
              setStarts(e.target.value);
              if (!ends && e.target.value) {
                const iso = localInputToIso(e.target.value, zone);
                if (iso) setEnds(isoToLocalInput(new Date(Date.parse(iso) + 60 * 60_000), zone));
              }
            }}
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
          {kind === 'extra_hours' && (
            <>
              <Select
                label="Consultation"
                value={mode}
                onChange={(e) => setMode(e.target.value as SlotMode)}
                options={MODE_OPTIONS}
              />
              <TextInput
                label="Slot length"
                type="number"
                min={5}
                max={480}
                suffix="min"
                value={slotMinutes}
                onChange={(e) => setSlotMinutes(e.target.value)}
                error={fieldError(add.error, 'slot_minutes')}
              />
            </>
          )}
          <TextInput
            label="Label"
            optional
            maxLength={100}
            hint="Shown to staff only."
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            error={fieldError(add.error, 'label')}
          />
        </div>
        {add.error && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <ErrorAlert
              error={add.error}
              inlineFields={['start', 'end', 'slot_minutes', 'label']}
            />
          </div>
        )}
        <div className="btn-row">
          <Button type="submit" loading={add.isPending}>
            Add {kind === 'time_off' ? 'time off' : 'extra hours'}
          </Button>
        </div>
      </form>

      <ConfirmDialog
        open={!!deleting}
        title={`Delete this ${deleting ? KIND_LABEL[deleting.kind].toLowerCase() : ''}?`}
        confirmLabel="Yes, delete"
        cancelLabel="Keep it"
        destructive
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          if (!deleting) return;
          const title = `${KIND_LABEL[deleting.kind]} deleted`;
          remove.mutate(deleting.id, {
            onSuccess: (change) => {
              setResult({ title, change });
              setDeleting(null);
            },
          });
        }}
      >
        {deleting && (
          <div className="stack-sm">
            <p>
              {formatSlotTime(deleting.start, zone)} – {formatSlotTime(deleting.end, zone)}
            </p>
            {remove.error && <ErrorAlert error={remove.error} />}
          </div>
        )}
      </ConfirmDialog>
    </Card>
  );
}

function ConflictsCard({ doctorId, zone }: { doctorId: string; zone: string }) {
  const conflicts = useConflicts(doctorId);
  return (
    <Card
      title="Conflicts"
      description="Booked appointments at times no rule covers any more. Reschedule them with the patient."
    >
      {conflicts.isPending ? (
        <LoadingState label="Loading…" />
      ) : conflicts.isError ? (
        <ErrorState error={conflicts.error} onRetry={() => void conflicts.refetch()} />
      ) : conflicts.data.length === 0 ? (
        <EmptyState title="No conflicts">
          Every booked appointment is covered by the schedule.
        </EmptyState>
      ) : (
        <AppointmentConflicts appointments={conflicts.data} zone={zone} />
      )}
    </Card>
  );
}
