import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import type { Conversation, Me, ParticipantRole } from '../../api/types';
import {
  Alert,
  Button,
  ButtonLink,
  ErrorState,
  LoadingState,
  Page,
  usePageTitle,
} from '../../components';
import { viewerTimeZone } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { prescribePath } from '../prescriptions/format';
import { baselineOf, useConversation, useHistory } from './api';
import { RequestAppointmentDialog } from './cards/RequestAppointmentDialog';
import { SendBillDialog } from './cards/SendBillDialog';
import { SlotPickerDialog } from './cards/SlotPickerDialog';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import {
  useChatSocket,
  useConnectionStatus,
  useConversationSnapshot,
  useLivePresence,
} from './context';
import { presenceLabel } from './format';
import { MessageList } from './MessageList';
import { CARE_SIDE, conversationTitle, myRole, PATIENT_SIDE } from './receipts';
import './chat.css';

/** /messages/:id — one conversation, live. */
export function ConversationPage() {
  const { id = '' } = useParams();
  // A new conversation is a new screen: drafts, scroll position and dialogs start afresh.
  return <ConversationLoader key={id} id={id} />;
}

function ConversationLoader({ id }: { id: string }) {
  const me = useCurrentUser();
  const conversation = useConversation(id);
  usePageTitle('Conversation');

  const gone = isApiError(conversation.error) && conversation.error.status === 404;
  // A family member whose access ended: back to "Myself", with the layout's notice.
  const { current } = useActingFor();
  useAccessEnded(
    current && conversation.data?.patient.id === current.patient.id ? current : null,
    gone ? conversation.error : null,
  );
  // Keep showing the conversation when a background refresh fails (offline, a blip); only a
  // 404 (access ended, or it never existed) replaces it.
  if (conversation.data && !gone) {
    return <ConversationScreen conversation={conversation.data} me={me} />;
  }
  if (conversation.isPending) {
    return (
      <Page title="Conversation" heading="Conversation">
        <LoadingState label="Loading the conversation…" />
      </Page>
    );
  }
  return (
    <Page title="Conversation" heading={gone ? 'Conversation not found' : 'Conversation'}>
      {gone ? (
        <p>
          This conversation does not exist, or you no longer have access to it (for example, because
          a family member's access ended).
        </p>
      ) : (
        <ErrorState error={conversation.error} onRetry={() => void conversation.refetch()} />
      )}
      <div>
        <ButtonLink to="/messages" variant="secondary">
          Back to messages
        </ButtonLink>
      </div>
    </Page>
  );
}

function Presence({
  userId,
  fallback,
}: {
  userId: string;
  fallback: Conversation['participants'][number] | undefined;
}) {
  const live = useLivePresence(userId);
  const label = presenceLabel(live ?? fallback);
  if (!label) return null;
  const online = (live ?? fallback)?.online === true;
  return <span className={online ? 'chat-header__presence--online' : undefined}>{label}</span>;
}

function ConversationScreen({ conversation, me }: { conversation: Conversation; me: Me }) {
  const socket = useChatSocket();
  const zone = viewerTimeZone();
  const role = myRole(conversation, me);
  const title = conversationTitle(conversation, role);
  const patientSide = PATIENT_SIDE.includes(role);
  const [stick, setStick] = useState(0);
  const [requesting, setRequesting] = useState(false);
  const [offering, setOffering] = useState<{ request?: string } | null>(null);
  const [billing, setBilling] = useState(false);

  // Whose presence to show: the other side (the doctor for a patient, the patient for staff).
  const counterparts = useMemo(() => {
    const others = conversation.participants.filter(
      (p) => p.user !== me.id && (patientSide ? CARE_SIDE.includes(p.role) : p.role === 'patient'),
    );
    if (
      patientSide &&
      conversation.doctor &&
      !others.some((p) => p.user === conversation.doctor?.user)
    ) {
      return [{ user: conversation.doctor.user, participant: undefined }];
    }
    return others.map((p) => ({ user: p.user, participant: p }));
  }, [conversation, me.id, patientSide]);

  const canRequest = patientSide && !!conversation.doctor;
  const canOffer = (role === 'doctor' || role === 'nurse') && !!conversation.doctor;
  // Doctors, nurses and center admins bill the patient (the server checks the role).
  const canBill = role === 'doctor' || role === 'nurse' || role === 'staff';
  // Doctors prescribe (the server checks the consult window).
  const canPrescribe = role === 'doctor';

  return (
    <div className="chat-screen">
      <header className="chat-header">
        <Link to="/messages" className="chat-header__back">
          <span aria-hidden="true">‹ </span>All messages
        </Link>
        <h1 tabIndex={-1}>{title}</h1>
        <p className="chat-header__meta">
          {conversation.kind === 'care_team' ? 'Care team · ' : ''}
          {conversation.center.name}
          {counterparts.slice(0, 1).map(({ user, participant }) => (
            <span key={user}>
              {' · '}
              <Presence userId={user} fallback={participant} />
            </span>
          ))}
        </p>
        {conversation.expected_reply && patientSide && (
          <p className="chat-header__meta">{conversation.expected_reply}</p>
        )}
        {(canRequest || canOffer || canBill || canPrescribe) && (
          <div className="chat-header__actions">
            {canRequest && (
              <Button variant="secondary" size="small" onClick={() => setRequesting(true)}>
                Request appointment
              </Button>
            )}
            {canOffer && (
              <Button variant="secondary" size="small" onClick={() => setOffering({})}>
                Offer times
              </Button>
            )}
            {canBill && (
              <Button variant="secondary" size="small" onClick={() => setBilling(true)}>
                Send a bill
              </Button>
            )}
            {canPrescribe && (
              <ButtonLink
                variant="secondary"
                size="small"
                to={prescribePath(conversation.patient.id)}
              >
                Prescribe<span className="sr-only"> for {conversation.patient.name}</span>
              </ButtonLink>
            )}
          </div>
        )}
      </header>

      {role === 'proxy' && (
        <Alert tone="info">
          <p>
            You are writing for <strong>{conversation.patient.name}</strong>. The care team sees
            that you sent it on their behalf.
          </p>
        </Alert>
      )}
      <ConversationThread
        conversation={conversation}
        me={me}
        role={role}
        zone={zone}
        title={title}
        stickSignal={stick}
        onOfferTimes={(request) => setOffering({ request })}
      />

      <RequestAppointmentDialog
        open={requesting}
        onClose={() => setRequesting(false)}
        onSubmit={(request) => {
          setRequesting(false);
          socket.submitAction(conversation.id, 'booking.request_appointment', { ...request });
          setStick((n) => n + 1);
        }}
      />
      <SlotPickerDialog
        open={offering !== null}
        title="Offer times"
        description={`Choose up to 5 free times. They are held for ${conversation.patient.name} while they choose.`}
        doctorId={conversation.doctor?.id ?? null}
        zone={zone}
        max={5}
        submitLabel={(count) => (count === 1 ? 'Offer 1 time' : `Offer ${count} times`)}
        onClose={() => setOffering(null)}
        onSubmit={(slots) => {
          const request = offering?.request;
          setOffering(null);
          socket.submitAction(conversation.id, 'booking.offer_slots', {
            slots: slots.map((s) => s.id),
            ...(request ? { request } : {}),
          });
          setStick((n) => n + 1);
        }}
      />
      <SendBillDialog
        open={billing}
        patientName={conversation.patient.name}
        onClose={() => setBilling(false)}
        onSubmit={(bill) => {
          setBilling(false);
          socket.submitAction(conversation.id, 'booking.request_payment', { ...bill });
          setStick((n) => n + 1);
        }}
      />
    </div>
  );
}

/**
 * A conversation's live timeline, the typing line and the message box (with the connection
 * banner above): the conversation page's body, also embedded beside a video consult.
 */
export function ConversationThread({
  conversation,
  me,
  role,
  zone,
  title,
  stickSignal = 0,
  onOfferTimes,
}: {
  conversation: Conversation;
  me: Me;
  role: ParticipantRole;
  zone: string;
  title: string;
  /** Changes when the page posted something (a card): jump to the bottom. */
  stickSignal?: number;
  onOfferTimes: (requestId?: string) => void;
}) {
  const socket = useChatSocket();
  const status = useConnectionStatus();
  const snapshot = useConversationSnapshot(conversation.id);
  const history = useHistory(conversation.id, socket);
  const [sent, setSent] = useState(0);

  // Cursors start from what the server just told us (no-op when the inbox already did).
  useEffect(() => {
    socket.track([baselineOf(conversation, me.id)]);
  }, [socket, conversation, me.id]);

  // Mark as read what is on screen while the tab is visible.
  const newest = snapshot.messages[snapshot.messages.length - 1]?.seq ?? 0;
  useEffect(() => {
    if (!newest) return;
    const mark = () => {
      if (document.visibilityState !== 'hidden') socket.markRead(conversation.id, newest);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [socket, conversation.id, newest]);

  const names = new Map(conversation.participants.map((p) => [p.user, p.name]));
  if (conversation.doctor) names.set(conversation.doctor.user, conversation.doctor.name);
  names.set(conversation.patient.id, conversation.patient.name);
  const typing = snapshot.typing.map((user) => names.get(user) ?? 'Someone');
  const typingText =
    typing.length === 0
      ? ''
      : typing.length === 1
        ? `${typing[0]} is typing…`
        : `${typing.join(' and ')} are typing…`;

  return (
    <>
      <ConnectionBanner />

      <MessageList
        conversation={conversation}
        meId={me.id}
        role={role}
        zone={zone}
        title={title}
        snapshot={snapshot}
        history={history}
        online={status === 'open'}
        stickSignal={stickSignal + sent}
        onOfferTimes={onOfferTimes}
      />
      <p className="chat-typing" aria-live="polite">
        {typingText}
      </p>
      <Composer
        conversationId={conversation.id}
        userId={me.id}
        recipient={title}
        onSent={() => setSent((n) => n + 1)}
      />
    </>
  );
}
