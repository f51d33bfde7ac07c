import { useSearchParams } from 'react-router-dom';
import { Badge, Card, EmptyState, ErrorState, LoadingState, Page, Select } from '../../components';
import { formatSlotTime, viewerTimeZone } from '../../lib/zones';
import { useCurrentUser } from '../auth/session';
import { useDeliveryLog } from './api';
import { CHANNELS, channelLabel, DELIVERY_STATUS, deliveryStatus } from './format';
import type { DeliveryStatus } from './types';
import './notifications.css';

const CHANNEL_OPTIONS = [
  { value: '', label: 'All channels' },
  ...CHANNELS.map((c) => ({ value: c.value, label: c.label })),
];

const STATUS_OPTIONS = [
  { value: '', label: 'All statuses' },
  ...(Object.keys(DELIVERY_STATUS) as DeliveryStatus[]).map((value) => ({
    value,
    label: DELIVERY_STATUS[value].label,
  })),
];

/** /center/notifications — center admins: every email, SMS and in-app notice, and its fate. */
export function DeliveryLogPage() {
  const me = useCurrentUser();
  const [params, setParams] = useSearchParams();
  const channel = params.get('channel') ?? '';
  const status = params.get('status') ?? '';
  const setFilter = (key: 'channel' | 'status', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  return (
    <Page
      title="Notification log"
      description="What your center's patients and staff were sent, by which channel, and whether it arrived."
    >
      <Card title="Filters">
        <div className="row">
          <Select
            label="Channel"
            value={channel}
            options={CHANNEL_OPTIONS}
            onChange={(event) => setFilter('channel', event.target.value)}
          />
          <Select
            label="Status"
            value={status}
            options={STATUS_OPTIONS}
            onChange={(event) => setFilter('status', event.target.value)}
          />
        </div>
      </Card>
      {me.center ? (
        <LogTable center={me.center} channel={channel} status={status} />
      ) : (
        <EmptyState title="No center">Your account is not an administrator of a center.</EmptyState>
      )}
    </Page>
  );
}

function LogTable({
  center,
  channel,
  status,
}: {
  center: string;
  channel: string;
  status: string;
}) {
  const log = useDeliveryLog(center, channel, status);
  const zone = viewerTimeZone();
  if (log.isPending) return <LoadingState label="Loading the log…" />;
  if (log.isError) return <ErrorState error={log.error} onRetry={() => void log.refetch()} />;
  const rows = log.data.results;
  return (
    <Card title="Deliveries">
      {rows.length === 0 ? (
        <EmptyState title="Nothing here">
          {channel || status
            ? 'No deliveries match these filters.'
            : 'Reminders and other notifications will be listed here as they are sent.'}
        </EmptyState>
      ) : (
        <div className="notify-table-wrap">
          <table className="notify-log">
            <caption className="sr-only">Notification deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Recipient</th>
                <th scope="col">What</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Sent</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const s = deliveryStatus(row.status);
                return (
                  <tr key={row.id}>
                    <td>{formatSlotTime(row.created_at, zone)}</td>
                    <td>{row.recipient_name}</td>
                    <td>{row.event || row.kind}</td>
                    <td>{channelLabel(row.channel)}</td>
                    <td>
                      <Badge tone={s.tone}>{s.label}</Badge>
                    </td>
                    <td>{row.sent_at ? formatSlotTime(row.sent_at, zone) : '—'}</td>
                    <td>{[row.error, row.provider_status].filter(Boolean).join(' · ') || '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
