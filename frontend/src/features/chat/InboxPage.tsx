import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { Conversation, Me } from '../../api/types';
import {
  Badge,
  ButtonLink,
  Checkbox,
  EmptyState,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
  Select,
} from '../../components';
import { fullName } from '../../lib/format';
import { hasRole, isStaff } from '../../lib/roles';
import { viewerTimeZone } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { useCurrentUser } from '../auth/session';
import {
  inboxQuery,
  useChatSettings,
  useConversations,
  useUpdateChatSettings,
  type InboxFilter,
} from './api';
import { ConnectionBanner } from './ConnectionBanner';
import { activityLabel } from './format';
import { conversationTitle, myRole } from './receipts';
import './chat.css';

/** /messages — every conversation, newest activity first, with unread counts. */
export function InboxPage() {
  const me = useCurrentUser();
  const staff = isStaff(me);
  const { current, patients } = useActingFor();
  const [filter, setFilter] = useState<InboxFilter>('all');
  const [patient, setPatient] = useState('');
  // A family member sees one person's conversations at a time: whoever they act for.
  const forPatient = staff
    ? patient || null
    : current
      ? current.patient.id
      : patients.length > 0 && hasRole(me, 'patient')
        ? me.id
        : null;
  const list = useConversations(inboxQuery(filter, forPatient));
  const everyone = useConversations('');
  const patientOptions = useMemo(() => {
    const seen = new Map<string, string>();
    for (const c of everyone.data ?? []) seen.set(c.patient.id, c.patient.name);
    return [...seen.entries()]
      .sort((a, b) => a[1].localeCompare(b[1]))
      .map(([value, label]) => ({ value, label }));
  }, [everyone.data]);

  const description = staff
    ? 'Conversations with your patients and care teams, newest first.'
    : current
      ? `${fullName(current.patient)}'s conversations with their care team.`
      : 'Your conversations with your doctors and care teams.';

  return (
    <Page title="Messages" description={description}>
      <ConnectionBanner />
      <div className="chat-filters">
        <Select
          label="Show"
          value={filter}
          onChange={(event) => setFilter(event.target.value as InboxFilter)}
          options={[
            { value: 'all', label: 'All conversations' },
            { value: 'unread', label: 'Unread' },
            ...(staff ? [{ value: 'care_team', label: 'Care team' }] : []),
          ]}
        />
        {staff && patientOptions.length > 0 && (
          <Select
            label="Patient"
            value={patient}
            onChange={(event) => setPatient(event.target.value)}
            options={[{ value: '', label: 'All patients' }, ...patientOptions]}
          />
        )}
      </div>
      <InboxList me={me} staff={staff} filtered={filter !== 'all' || !!patient} query={list} />
      {staff && <PresenceSetting />}
    </Page>
  );
}

function InboxList({
  me,
  staff,
  filtered,
  query,
}: {
  me: Me;
  staff: boolean;
  filtered: boolean;
  query: ReturnType<typeof useConversations>;
}) {
  const zone = viewerTimeZone();
  if (query.isPending) return <LoadingState label="Loading conversations…" />;
  if (!query.data) {
    return (
      <ErrorState
        error={query.error}
        title="We could not load your messages"
        onRetry={() => void query.refetch()}
      />
    );
  }
  const conversations = query.data;
  if (conversations.length === 0) {
    if (filtered) {
      return <EmptyState title="Nothing here">No conversations match these filters.</EmptyState>;
    }
    return staff ? (
      <EmptyState title="No conversations yet">
        Patients you care for appear here when they or you start a conversation.
      </EmptyState>
    ) : (
      <EmptyState
        title="No conversations yet"
        action={<ButtonLink to="/doctors">Find a doctor</ButtonLink>}
      >
        Book an appointment, and you can message your doctor here.
      </EmptyState>
    );
  }
  return (
    <ul className="chat-inbox" aria-busy={query.isFetching || undefined}>
      {conversations.map((conversation) => (
        <InboxItem key={conversation.id} conversation={conversation} me={me} zone={zone} />
      ))}
    </ul>
  );
}

function InboxItem({
  conversation,
  me,
  zone,
}: {
  conversation: Conversation;
  me: Me;
  zone: string;
}) {
  const role = myRole(conversation, me);
  const title = conversationTitle(conversation, role);
  const unread = conversation.unread;
  const when = activityLabel(conversation.last_activity_at, zone);
  const details = [
    role === 'proxy' ? `For ${conversation.patient.name}` : null,
    conversation.center.name,
    role === 'patient' || role === 'proxy' ? conversation.expected_reply : null,
  ].filter(Boolean);
  return (
    <li>
      <Link
        to={`/messages/${conversation.id}`}
        className={unread > 0 ? 'chat-inbox__item chat-inbox__item--unread' : 'chat-inbox__item'}
      >
        <span className="chat-inbox__title">
          {title}
          {conversation.kind === 'care_team' && <Badge tone="info">Care team</Badge>}
        </span>
        <span className="chat-inbox__time">
          <span className="sr-only">Last activity </span>
          <time dateTime={conversation.last_activity_at}>{when}</time>
        </span>
        <span className="chat-inbox__meta">{details.join(' · ')}</span>
        {unread > 0 ? (
          <span className="chat-unread">
            {unread}
            <span className="sr-only"> unread</span>
          </span>
        ) : (
          <span />
        )}
      </Link>
    </li>
  );
}

/** Doctors and staff may hide when they are online and when they were last seen. */
function PresenceSetting() {
  const settings = useChatSettings(true);
  const update = useUpdateChatSettings();
  if (!settings.data) return null;
  return (
    <div className="stack-sm">
      <Checkbox
        compact
        checked={settings.data.show_presence}
        disabled={update.isPending}
        onChange={(event) => update.mutate({ show_presence: event.target.checked })}
        label="Show patients when I'm online"
        description="When off, nobody sees your online status or when you were last seen."
      />
      {update.error && <ErrorAlert error={update.error} title="Not saved" />}
    </div>
  );
}
