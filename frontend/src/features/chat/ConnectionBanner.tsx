import { useEffect, useState } from 'react';
import { Link, useLocation } from 'react-router-dom';
import { Alert } from '../../components';
import { loginPath } from '../../lib/navigation';
import { useConnectionStatus, useOutbox } from './context';

/** True once `value` has stayed true for `ms` (no banner for a blip). */
function useLasting(value: boolean, ms: number): boolean {
  const [lasting, setLasting] = useState(false);
  useEffect(() => {
    if (!value) return;
    const timer = setTimeout(() => setLasting(true), ms);
    return () => {
      clearTimeout(timer);
      setLasting(false);
    };
  }, [value, ms]);
  return value && lasting;
}

/** "You're offline" / "Reconnecting…" / "Your session ended", with what is waiting to go. */
export function ConnectionBanner() {
  const status = useConnectionStatus();
  const outbox = useOutbox();
  const location = useLocation();
  const waiting = outbox.filter((e) => e.state !== 'failed').length;
  const reconnecting = useLasting(status === 'reconnecting' || status === 'connecting', 1500);
  const queued =
    waiting > 0 ? (
      <p>
        {waiting === 1 ? '1 message is' : `${waiting} messages are`} waiting and will be sent
        automatically.
      </p>
    ) : null;

  if (status === 'offline') {
    return (
      <Alert tone="warning" title="You're offline">
        <p>You can keep writing: messages are kept on this device and sent when you're back.</p>
        {queued}
      </Alert>
    );
  }
  if (status === 'signed_out') {
    return (
      <Alert tone="error" title="Your session has ended">
        <p>
          <Link to={loginPath(location.pathname)}>Log in again</Link> to keep chatting. What you
          wrote here is kept until you do.
        </p>
      </Alert>
    );
  }
  if (reconnecting) {
    const first = status === 'connecting';
    return (
      <Alert tone="info" title={first ? 'Connecting to chat…' : 'Reconnecting…'}>
        <p>
          {first
            ? 'New messages will appear as soon as the connection is up.'
            : 'The connection to CareConnect dropped. Nothing you write is lost.'}
        </p>
        {queued}
      </Alert>
    );
  }
  return null;
}
