import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import {
  Alert,
  Button,
  ButtonLink,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
  Spinner,
  usePageTitle,
} from '../../components';
import { formatClock, formatSlotTime, viewerTimeZone, zoneLabel } from '../../lib/zones';
import { useCurrentUser } from '../auth/session';
import { useConversation } from '../chat/api';
import { prescribePath } from '../prescriptions/format';
import { consultKeys, useConsult, useEndConsult, useWatchWaitingRoom } from './api';
import { CallView } from './CallView';
import type { CallState } from './callState';
import { connectionText } from './callState';
import { ConsultChat } from './ConsultChat';
import { DeviceCheck } from './DeviceCheck';
import { formatDuration, joinBlocker } from './format';
import { StreamVideo } from './media';
import type { Consult, ConsultPerson } from './types';
import { useConsultCall } from './useConsultCall';
import { useLocalMedia } from './useLocalMedia';
import { useNow } from './useNow';
import { VisitNote } from './VisitNote';
import './consult.css';

/** /consult/:id — the video consult of an online appointment (id = the appointment's id). */
export function ConsultPage() {
  const { id = '' } = useParams();
  return <ConsultLoader key={id} id={id} />;
}

function ConsultLoader({ id }: { id: string }) {
  const consult = useConsult(id);
  usePageTitle('Video consult');
  // A failed background refresh keeps the page (and the call) going.
  if (consult.data) return <ConsultScreen consult={consult.data} />;
  if (consult.isPending) {
    return (
      <Page title="Video consult" heading="Video consult">
        <LoadingState label="Loading the consult…" />
      </Page>
    );
  }
  const gone = isApiError(consult.error) && consult.error.status === 404;
  const notOnline = isApiError(consult.error, 'not_online');
  return (
    <Page
      title="Video consult"
      heading={
        gone ? 'Consult not found' : notOnline ? 'This is not a video consult' : 'Video consult'
      }
    >
      {gone ? (
        <p>This consult does not exist, or you are not part of it.</p>
      ) : notOnline ? (
        <p>This appointment takes place in person, at the center.</p>
      ) : (
        <ErrorState error={consult.error} onRetry={() => void consult.refetch()} />
      )}
      <div>
        <ButtonLink to="/" variant="secondary">
          Go to home
        </ButtonLink>
      </div>
    </Page>
  );
}

function ConsultScreen({ consult }: { consult: Consult }) {
  const me = useCurrentUser();
  const queryClient = useQueryClient();
  const zone = viewerTimeZone();
  const now = useNow(15_000);
  const { state, remoteStream, remoteVideo, call } = useConsultCall(consult, me.id);
  const ended = state.phase === 'ended' || consult.status === 'ended';
  // No camera for a consult that is over (and off the moment it ends).
  const media = useLocalMedia(consult.video, !ended);
  const stream = media.result?.stream ?? null;
  const endConsult = useEndConsult(consult.id);
  const isDoctor = consult.role === 'doctor';
  const otherName = isDoctor ? consult.patient_name : consult.doctor_name;
  const conversationPath = consult.conversation
    ? `/messages/${encodeURIComponent(consult.conversation)}`
    : null;
  const back = conversationPath ?? (isDoctor ? '/week' : '/appointments');

  useEffect(() => {
    call.setLocalStream(stream);
  }, [call, stream]);

  // The window opens: ask the server again (it decides `joinable`).
  const { id, joinable, status, opens_at: opensAt } = consult;
  useEffect(() => {
    if (joinable || status === 'ended') return;
    const wait = Date.parse(opensAt) - Date.now();
    if (!(wait > 0) || wait > 2_147_000_000) return;
    const timer = setTimeout(
      () => void queryClient.invalidateQueries({ queryKey: consultKeys.detail(id) }),
      wait + 1_000,
    );
    return () => clearTimeout(timer);
  }, [queryClient, id, joinable, status, opensAt]);

  // The doctor before joining (or after leaving) learns who arrives from the REST answer.
  useWatchWaitingRoom(id, isDoctor && joinable && state.phase === 'device-check');

  // Ended over the socket: fetch the times for the summary.
  useEffect(() => {
    if (state.phase === 'ended') {
      void queryClient.invalidateQueries({ queryKey: consultKeys.detail(id) });
    }
  }, [queryClient, id, state.phase]);

  // Back after a reload (or a crash) while in the call: straight back in.
  const [rejoining] = useState(() => call.shouldRejoin());
  const autoJoined = useRef(false);
  const mediaReady = media.result !== null;
  useEffect(() => {
    if (autoJoined.current || !mediaReady || !joinable) return;
    autoJoined.current = true;
    if (call.shouldRejoin()) call.join();
  }, [call, mediaReady, joinable]);

  const end = () => {
    call.end();
    endConsult.mutate(undefined, { onSuccess: () => call.markEnded() });
  };

  const blocker = joinBlocker(consult, zone, now);

  let body;
  if (ended) {
    body = <EndedView consult={consult} back={back} hasConversation={!!conversationPath} />;
  } else if (state.phase === 'in-call') {
    body = (
      <CallView
        state={state}
        localStream={stream}
        remoteStream={remoteStream}
        remoteVideo={remoteVideo}
        otherName={otherName}
        isDoctor={isDoctor}
        ending={endConsult.isPending}
        onMute={() => call.setMuted(!state.muted)}
        onCamera={() => call.setCameraOff(!state.cameraOff)}
        onAudioOnly={() => call.setAudioOnly(!state.audioOnly)}
        onLeave={() => call.leave()}
        onEnd={end}
      />
    );
  } else if (state.phase === 'joining' || state.phase === 'waiting') {
    body = (
      <WaitingRoom state={state} stream={stream} isDoctor={isDoctor} onLeave={() => call.leave()} />
    );
  } else {
    body = (
      <>
        {state.left && (
          <Alert tone="info" title="You left the consult">
            <p>Rejoin whenever you are ready, while the consult is open.</p>
          </Alert>
        )}
        <DeviceCheck
          consultId={consult.id}
          media={media.result}
          onRetryMedia={media.retry}
          canProbe={consult.joinable && !rejoining}
          joinLabel={state.left ? 'Rejoin' : 'Join consult'}
          blocker={blocker}
          onJoin={() => {
            endConsult.reset();
            call.join();
          }}
        />
      </>
    );
  }

  // Admitting before the doctor joined joins first (the admission goes once they are in).
  const canAdmit =
    state.phase === 'in-call'
      ? state.link === 'open'
      : state.phase === 'device-check'
        ? !blocker && mediaReady
        : state.phase === 'joining';
  const showWaiting = isDoctor && !ended && (state.waiting.length > 0 || state.phase === 'in-call');

  return (
    <div className="consult-page">
      <header className="consult-header">
        <Link to={back} className="consult-header__back">
          <span aria-hidden="true">‹ </span>
          {conversationPath ? 'Conversation' : isDoctor ? 'My week' : 'Appointments'}
        </Link>
        <h1 tabIndex={-1}>Video consult with {otherName}</h1>
        <p className="consult-header__meta">
          {formatSlotTime(consult.start, zone)}–{formatClock(consult.end, zone)} · {zoneLabel(zone)}
          {consult.role === 'proxy' ? ` · for ${consult.patient_name}` : ''}
        </p>
      </header>

      {state.error && !ended && (
        <Alert
          tone="error"
          title={state.error.code === 'no_capacity' ? 'The call is busy' : 'The call stopped'}
        >
          <p>{state.error.message}</p>
          {state.phase === 'device-check' && !blocker && <p>Use the button below to try again.</p>}
        </Alert>
      )}
      {endConsult.error && <ErrorAlert error={endConsult.error} title="The consult did not end" />}

      <div
        className={consult.conversation ? 'consult-layout consult-layout--chat' : 'consult-layout'}
      >
        <div className="consult-main">
          {showWaiting && (
            <WaitingList
              waiting={state.waiting}
              admitting={state.admitting}
              canAdmit={canAdmit}
              patientName={consult.patient_name}
              onAdmit={(user) => call.admit(user)}
            />
          )}
          {body}
          {isDoctor && <VisitNote consultId={consult.id} zone={zone} />}
          {isDoctor && <PrescribeFromConsult consult={consult} ended={ended} />}
        </div>
        {consult.conversation && <ConsultChat conversationId={consult.conversation} zone={zone} />}
      </div>
    </div>
  );
}

/**
 * The doctor writes a prescription during the consult (in a new tab, so the call goes on) or
 * after it. The patient's id comes from the consult's conversation.
 */
function PrescribeFromConsult({ consult, ended }: { consult: Consult; ended: boolean }) {
  const headingId = useId();
  const conversation = useConversation(consult.conversation ?? '');
  const patient = consult.conversation ? (conversation.data?.patient.id ?? null) : null;
  const to = prescribePath(patient, consult.appointment);
  const waiting = !!consult.conversation && conversation.isPending;
  return (
    <section className="card stack-sm" aria-labelledby={headingId}>
      <h2 id={headingId}>Prescription</h2>
      <p className="small muted">
        {ended
          ? `You can prescribe for ${consult.patient_name} for up to 7 days after the consult.`
          : 'The prescription form opens in a new tab, so the call goes on here.'}
      </p>
      <div>
        {waiting ? (
          <Button variant="secondary" disabled>
            Prescribe
          </Button>
        ) : ended ? (
          <ButtonLink to={to} variant="secondary">
            Prescribe<span className="sr-only"> for {consult.patient_name}</span>
          </ButtonLink>
        ) : (
          <ButtonLink to={to} variant="secondary" target="_blank" rel="noopener">
            Prescribe
            <span className="sr-only"> for {consult.patient_name} (opens in a new tab)</span>
          </ButtonLink>
        )}
      </div>
    </section>
  );
}

function WaitingRoom({
  state,
  stream,
  isDoctor,
  onLeave,
}: {
  state: CallState;
  stream: MediaStream | null;
  isDoctor: boolean;
  onLeave: () => void;
}) {
  const headingId = useId();
  const waiting = state.phase === 'waiting';
  const status = connectionText(state);
  return (
    <section className="card consult-waiting" aria-labelledby={headingId}>
      <div className="stack-sm">
        <h2 id={headingId}>{waiting ? 'Waiting room' : 'Joining the consult'}</h2>
        <p role="status">
          {waiting ? (
            'The doctor will let you in shortly.'
          ) : (
            <>
              <Spinner /> {status ?? 'Connecting…'}
            </>
          )}
        </p>
        {waiting && status && (
          <p className="small muted" role="status">
            {status}
          </p>
        )}
        {waiting && !isDoctor && (
          <p className="small muted">
            Keep this page open. You can write in the chat while you wait.
          </p>
        )}
        <div>
          <Button variant="danger-outline" onClick={onLeave}>
            Leave
          </Button>
        </div>
      </div>
      {stream?.getVideoTracks().length ? (
        <StreamVideo stream={stream} label="Camera preview" className="consult-preview" mirrored />
      ) : null}
    </section>
  );
}

function WaitingList({
  waiting,
  admitting,
  canAdmit,
  patientName,
  onAdmit,
}: {
  waiting: ConsultPerson[];
  admitting: string[];
  canAdmit: boolean;
  patientName: string;
  onAdmit: (user: string) => void;
}) {
  const headingId = useId();
  return (
    <section className="card consult-waiting-list" aria-labelledby={headingId}>
      <h2 id={headingId}>Waiting room</h2>
      <div aria-live="polite">
        {waiting.length === 0 ? (
          <p className="muted small">
            No one is waiting. {patientName} appears here when they arrive.
          </p>
        ) : (
          <ul className="consult-people">
            {waiting.map((person) => (
              <li key={person.user}>
                <span>
                  <strong>{person.name}</strong> is waiting
                  {person.role === 'proxy' ? ' (family member)' : ''}
                </span>
                {canAdmit && (
                  <Button
                    size="small"
                    loading={admitting.includes(person.user)}
                    onClick={() => onAdmit(person.user)}
                  >
                    Admit {person.name}
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      {!canAdmit && waiting.length > 0 && (
        <p className="small muted">Join the consult to let them in.</p>
      )}
    </section>
  );
}

function EndedView({
  consult,
  back,
  hasConversation,
}: {
  consult: Consult;
  back: string;
  hasConversation: boolean;
}) {
  const headingId = useId();
  const started = consult.started_at ? Date.parse(consult.started_at) : NaN;
  const finished = consult.ended_at ? Date.parse(consult.ended_at) : NaN;
  const seconds =
    Number.isFinite(started) && Number.isFinite(finished) ? (finished - started) / 1000 : null;
  return (
    <section className="card stack-sm" aria-labelledby={headingId}>
      <h2 id={headingId}>The consult has ended</h2>
      {seconds !== null && seconds > 0 && <p>It lasted {formatDuration(seconds)}.</p>}
      <p>
        <ButtonLink to={back} variant="secondary">
          {hasConversation
            ? 'Back to the conversation'
            : consult.role === 'doctor'
              ? 'Back to my week'
              : 'Back to appointments'}
        </ButtonLink>
      </p>
    </section>
  );
}
