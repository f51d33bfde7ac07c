import { Alert, Button } from '../../components';
import { connectionText, controlLabels, stageOverlay, type CallState } from './callState';
import { RemoteVideo, StreamVideo } from './media';

/**
 * In the call: the other participant big, me small, the controls. The remote <video> exists
 * only here; its stream comes from the peer connection's `ontrack`.
 */
export function CallView({
  state,
  localStream,
  remoteStream,
  remoteVideo,
  otherName,
  isDoctor,
  ending,
  onMute,
  onCamera,
  onAudioOnly,
  onLeave,
  onEnd,
}: {
  state: CallState;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  remoteVideo: boolean;
  /** Who I am talking to (the doctor, or the patient). */
  otherName: string;
  isDoctor: boolean;
  ending: boolean;
  onMute: () => void;
  onCamera: () => void;
  onAudioOnly: () => void;
  onLeave: () => void;
  onEnd: () => void;
}) {
  const labels = controlLabels(state);
  const status = connectionText(state);
  const hasCamera = !!localStream?.getVideoTracks().length;
  const hasMic = !!localStream?.getAudioTracks().length;
  const othersHere = state.others.length > 0;
  const poor = state.quality === 'poor' && !state.audioOnly;
  const overlay = stageOverlay(state, remoteVideo, otherName, isDoctor);

  return (
    <section className="consult-call" aria-label="Video call">
      <div className="consult-stage">
        <RemoteVideo
          stream={remoteStream}
          hidden={state.audioOnly}
          className="consult-stage__remote"
        />
        {overlay && <p className="consult-stage__overlay">{overlay}</p>}
        {hasCamera && (
          <StreamVideo
            stream={localStream}
            label="Your video"
            className={
              state.cameraOff || state.audioOnly
                ? 'consult-stage__local consult-stage__local--off'
                : 'consult-stage__local'
            }
            mirrored
          />
        )}
      </div>

      <p className="consult-status" role="status">
        {status ??
          (othersHere ? `In the call with ${state.others.map((p) => p.name).join(', ')}` : '')}
      </p>

      {poor && (
        <div className="consult-banner" role="alert">
          <p>
            <strong>Your connection is poor.</strong> The picture may freeze; audio only keeps the
            conversation going.
          </p>
          <Button size="small" onClick={onAudioOnly}>
            {labels.audioOnly}
          </Button>
        </div>
      )}
      {state.muted && (
        <p className="small muted" role="status">
          You are muted.
        </p>
      )}
      {!hasMic && (
        <Alert tone="info">
          <p>No microphone: {otherName} cannot hear you. You can write in the chat.</p>
        </Alert>
      )}

      <div className="consult-controls" role="toolbar" aria-label="Call controls">
        <Button variant={state.muted ? 'primary' : 'secondary'} onClick={onMute} disabled={!hasMic}>
          {labels.mute}
        </Button>
        <Button
          variant={state.cameraOff ? 'primary' : 'secondary'}
          onClick={onCamera}
          disabled={!hasCamera || state.audioOnly}
        >
          {labels.camera}
        </Button>
        {/* While the poor-connection banner shows, its button is the one way to audio only. */}
        {!poor && (
          <Button variant={state.audioOnly ? 'primary' : 'secondary'} onClick={onAudioOnly}>
            {labels.audioOnly}
          </Button>
        )}
        <span className="spacer" />
        <Button variant="danger-outline" onClick={onLeave}>
          Leave
        </Button>
        {isDoctor && (
          <Button variant="danger" onClick={onEnd} loading={ending}>
            End consult
          </Button>
        )}
      </div>
    </section>
  );
}
