import { useEffect, useRef, useState, type FormEvent } from 'react';
import { isApiError } from '../../api/client';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  ErrorAlert,
  ErrorState,
  fieldError,
  LoadingState,
  Page,
  Select,
  TextInput,
} from '../../components';
import { viewerTimeZone, zoneLabel } from '../../lib/zones';
import { timeZoneOptions } from '../admin/timezones';
import { usePreferences, useConfirmPhone, useSendPhoneCode, useUpdatePreferences } from './api';
import { CHANNELS, channelCheckboxLabel, clockInput, quietHoursProblem } from './format';
import type { Channel, NotificationPreferences, PreferencesPatch } from './types';
import './notifications.css';

/** /settings/notifications — what to be told about, how, and when not to be disturbed. */
export function NotificationSettingsPage() {
  const prefs = usePreferences();
  return (
    <Page
      title="Notification settings"
      heading="Notifications"
      description="Choose how CareConnect tells you about appointments, payments and messages."
    >
      {prefs.isPending ? (
        <LoadingState label="Loading your notification settings…" />
      ) : prefs.isError ? (
        <ErrorState error={prefs.error} onRetry={() => void prefs.refetch()} />
      ) : (
        <Settings prefs={prefs.data} />
      )}
    </Page>
  );
}

function Settings({ prefs }: { prefs: NotificationPreferences }) {
  const update = useUpdatePreferences();
  const [saved, setSaved] = useState<string | null>(null);
  const browserZone = viewerTimeZone();

  // First visit: the server still says UTC (its default) — use this browser's zone.
  const zoneSaved = useRef(false);
  const mutate = update.mutate;
  useEffect(() => {
    if (zoneSaved.current) return;
    zoneSaved.current = true;
    if ((!prefs.timezone || prefs.timezone === 'UTC') && browserZone !== 'UTC') {
      mutate({ timezone: browserZone });
    }
  }, [prefs.timezone, browserZone, mutate]);

  const save = (patch: PreferencesPatch, what: string) => {
    setSaved(null);
    update.mutate(patch, { onSuccess: () => setSaved(what) });
  };

  const smsReady = prefs.sms.verified;
  return (
    <>
      <div aria-live="polite">
        {saved && (
          <Alert tone="success" title="Saved">
            <p>{saved}</p>
          </Alert>
        )}
      </div>
      {update.isError && (
        <ErrorAlert
          error={update.error}
          title={
            isApiError(update.error) && fieldError(update.error, 'sms')
              ? 'Verify a phone number first'
              : 'Your change was not saved'
          }
        />
      )}

      <Card
        title="What you hear about"
        description={
          smsReady
            ? 'Tick how you want each kind of notification.'
            : 'Tick how you want each kind of notification. Verify a phone number below to get text messages.'
        }
      >
        <div className="notify-table-wrap">
          <table className="notify-prefs">
            <thead>
              <tr>
                <th scope="col">Notification</th>
                {CHANNELS.map((c) => (
                  <th key={c.value} scope="col">
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {prefs.kinds.map((kind) => (
                <tr key={kind.kind}>
                  <th scope="row">{kind.label}</th>
                  {CHANNELS.map((c) => (
                    <td key={c.value}>
                      <input
                        type="checkbox"
                        aria-label={channelCheckboxLabel(c.value, kind.label)}
                        checked={kind[c.value]}
                        disabled={(c.value === 'sms' && !smsReady) || update.isPending}
                        onChange={(event) => {
                          const on = event.target.checked;
                          save(
                            { kinds: { [kind.kind]: { [c.value as Channel]: on } } },
                            `${channelCheckboxLabel(c.value, kind.label)} is ${on ? 'on' : 'off'}.`,
                          );
                        }}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>

      <PhoneCard prefs={prefs} />

      <Card title="Time zone" description="Reminders and quiet hours follow this time zone.">
        <Select
          label="Time zone"
          value={prefs.timezone || browserZone}
          options={timeZoneOptions(prefs.timezone || browserZone).map((zone) => ({
            value: zone,
            label: zone === browserZone ? `${zoneLabel(zone)} (this device)` : zone,
          }))}
          disabled={update.isPending}
          onChange={(event) =>
            save({ timezone: event.target.value }, `Time zone set to ${event.target.value}.`)
          }
        />
      </Card>

      <QuietHoursCard
        key={prefs.quiet_hours ? `${prefs.quiet_hours.start}-${prefs.quiet_hours.end}` : 'none'}
        prefs={prefs}
        busy={update.isPending}
        onSave={(quiet) =>
          save(
            { quiet_hours: quiet },
            quiet
              ? `No text messages or emails from ${quiet.start} until ${quiet.end}, except urgent ones.`
              : 'Quiet hours are off.',
          )
        }
      />
    </>
  );
}

function PhoneCard({ prefs }: { prefs: NotificationPreferences }) {
  const sendCode = useSendPhoneCode();
  const confirm = useConfirmPhone();
  const [changing, setChanging] = useState(!prefs.sms.verified);
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [codeSentTo, setCodeSentTo] = useState<string | null>(null);
  const [justVerified, setJustVerified] = useState(false);

  const onSend = (event: FormEvent) => {
    event.preventDefault();
    setJustVerified(false);
    if (!phone.trim()) {
      setProblem('Enter your mobile number, with the country code (for example +351…).');
      return;
    }
    setProblem(null);
    sendCode.mutate(phone.trim(), {
      onSuccess: () => {
        setCodeSentTo(phone.trim());
        setCode('');
        confirm.reset();
      },
    });
  };

  const onVerify = (event: FormEvent) => {
    event.preventDefault();
    if (!code.trim()) {
      setProblem('Enter the code from the text message.');
      return;
    }
    setProblem(null);
    confirm.mutate(code.trim(), {
      onSuccess: () => {
        setChanging(false);
        setCodeSentTo(null);
        setPhone('');
        setCode('');
        setJustVerified(true);
      },
    });
  };

  const codeError = isApiError(confirm.error, 'code_invalid')
    ? 'That code is not right or has expired. Check the text message, or send a new code.'
    : (fieldError(confirm.error, 'code') ?? undefined);

  return (
    <Card title="Text messages (SMS)">
      {prefs.sms.verified && prefs.sms.number_last4 ? (
        <div className="row">
          <p style={{ margin: 0 }}>
            Verified number ending <strong>{prefs.sms.number_last4}</strong>
          </p>
          {!changing && (
            <Button variant="secondary" size="small" onClick={() => setChanging(true)}>
              Change number
            </Button>
          )}
        </div>
      ) : (
        <p style={{ marginTop: 0 }}>
          Add a mobile number to get reminders by text message. We send a code to check it is yours.
        </p>
      )}
      {justVerified && (
        <Alert tone="success" title="Number verified">
          <p>You can now turn on SMS for the notifications you want.</p>
        </Alert>
      )}
      {changing && (
        <div className="stack">
          <form onSubmit={onSend} noValidate className="stack">
            <TextInput
              label="Phone for SMS"
              type="tel"
              autoComplete="tel"
              inputMode="tel"
              value={phone}
              onChange={(event) => setPhone(event.target.value)}
              hint="Your mobile number with the country code, for example +351 912 345 678."
              error={(!codeSentTo && problem) || fieldError(sendCode.error, 'phone') || undefined}
            />
            <div className="row">
              <Button
                type="submit"
                variant={codeSentTo ? 'secondary' : 'primary'}
                loading={sendCode.isPending}
              >
                {codeSentTo ? 'Send a new code' : 'Send code'}
              </Button>
              {prefs.sms.verified && (
                <Button variant="ghost" onClick={() => setChanging(false)}>
                  Keep the current number
                </Button>
              )}
            </div>
            {sendCode.isError && !fieldError(sendCode.error, 'phone') && (
              <ErrorAlert error={sendCode.error} title="The code was not sent" />
            )}
          </form>
          {codeSentTo && (
            <form onSubmit={onVerify} noValidate className="stack">
              <p role="status" style={{ margin: 0 }}>
                We sent a code to {codeSentTo}.
              </p>
              <TextInput
                label="Code"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(event) => setCode(event.target.value)}
                error={(problem ?? undefined) || codeError}
              />
              <div className="row">
                <Button type="submit" loading={confirm.isPending}>
                  Verify
                </Button>
              </div>
              {confirm.isError && !codeError && (
                <ErrorAlert error={confirm.error} title="The number was not verified" />
              )}
            </form>
          )}
        </div>
      )}
    </Card>
  );
}

function QuietHoursCard({
  prefs,
  busy,
  onSave,
}: {
  prefs: NotificationPreferences;
  busy: boolean;
  onSave: (quiet: { start: string; end: string } | null) => void;
}) {
  const [off, setOff] = useState(prefs.quiet_hours === null);
  const [start, setStart] = useState(clockInput(prefs.quiet_hours?.start) || '22:00');
  const [end, setEnd] = useState(clockInput(prefs.quiet_hours?.end) || '07:00');
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (off) {
      setProblem(null);
      onSave(null);
      return;
    }
    const found = quietHoursProblem({ start, end });
    setProblem(found);
    if (!found) onSave({ start, end });
  };

  return (
    <Card
      title="Quiet hours"
      description="No text messages or emails during these hours (they wait until the morning). Security alerts still come through."
    >
      <form onSubmit={submit} noValidate className="stack">
        <Checkbox
          label="No quiet hours"
          checked={off}
          onChange={(event) => setOff(event.target.checked)}
          compact
        />
        <div className="row">
          <TextInput
            label="Quiet from"
            type="time"
            value={start}
            disabled={off}
            onChange={(event) => setStart(event.target.value)}
          />
          <TextInput
            label="Quiet until"
            type="time"
            value={end}
            disabled={off}
            onChange={(event) => setEnd(event.target.value)}
            error={problem ?? undefined}
          />
        </div>
        <div className="row">
          <Button type="submit" loading={busy}>
            Save quiet hours
          </Button>
        </div>
      </form>
    </Card>
  );
}
