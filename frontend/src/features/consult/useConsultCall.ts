import { useEffect, useState, useSyncExternalStore } from 'react';
import { ConsultCall, type CallSnapshot } from './ConsultCall';
import type { Consult } from './types';

/**
 * The page's handle on the call: the `ConsultCall` (websocket + peer connection) of this
 * consult, and its current snapshot. Leaving the page leaves the call.
 */
export function useConsultCall(
  consult: Consult,
  userId: string,
): CallSnapshot & { call: ConsultCall } {
  const [call] = useState(
    () => new ConsultCall({ consultId: consult.id, userId, iceServers: consult.ice_servers }),
  );

  useEffect(() => {
    call.mount();
    return () => call.unmount();
  }, [call]);

  useEffect(() => {
    call.setIceServers(consult.ice_servers);
  }, [call, consult.ice_servers]);

  // The REST answer: the consult ended elsewhere, or who is waiting before the socket says.
  useEffect(() => {
    if (consult.status === 'ended') call.markEnded();
  }, [call, consult.status]);
  useEffect(() => {
    if (consult.role === 'doctor') call.syncWaiting(consult.waiting);
  }, [call, consult.role, consult.waiting]);

  const snapshot = useSyncExternalStore(call.subscribe, call.getSnapshot);
  return { ...snapshot, call };
}
