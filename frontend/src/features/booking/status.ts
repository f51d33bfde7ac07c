import type {
  Appointment,
  AppointmentStatus,
  ConsultMode,
  SlotMode,
  WaitlistStatus,
} from '../../api/types';
import type { BadgeTone } from '../../components/Badge';

export const STATUS: Record<AppointmentStatus, { label: string; tone: BadgeTone }> = {
  requested: { label: 'Requested', tone: 'warning' },
  awaiting_payment: { label: 'Awaiting payment', tone: 'warning' },
  confirmed: { label: 'Confirmed', tone: 'success' },
  completed: { label: 'Completed', tone: 'info' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  no_show: { label: 'No-show', tone: 'danger' },
};

export const WAITLIST_STATUS: Record<WaitlistStatus, { label: string; tone: BadgeTone }> = {
  waiting: { label: 'Waiting', tone: 'info' },
  offered: { label: 'Slot held for you', tone: 'success' },
  booked: { label: 'Booked', tone: 'success' },
  lapsed: { label: 'Offer lapsed', tone: 'neutral' },
  cancelled: { label: 'Left', tone: 'neutral' },
};

export const MODE_LABEL: Record<SlotMode, string> = {
  online: 'Online',
  in_person: 'In person',
  both: 'Online or in person',
};

/** The consult modes a slot allows, limited to those the doctor charges for (when known). */
export function modesFor(slotMode: SlotMode, doctorModes?: readonly ConsultMode[]): ConsultMode[] {
  const offered: ConsultMode[] = slotMode === 'both' ? ['online', 'in_person'] : [slotMode];
  if (!doctorModes || doctorModes.length === 0) return offered;
  const allowed = offered.filter((mode) => doctorModes.includes(mode));
  return allowed.length > 0 ? allowed : offered;
}

/** Cancelling now would be marked late (inside the center's notice period). */
export function isLateCancellation(
  appointment: Pick<Appointment, 'cancellation_deadline'>,
  now: Date = new Date(),
): boolean {
  const deadline = Date.parse(appointment.cancellation_deadline);
  return Number.isFinite(deadline) && now.getTime() > deadline;
}

/** Staff may record the outcome (completed / no-show) once the appointment has started. */
export function canRecordOutcome(
  appointment: Pick<Appointment, 'start' | 'status'>,
  now: Date = new Date(),
): boolean {
  const live = appointment.status === 'confirmed' || appointment.status === 'requested';
  return live && Date.parse(appointment.start) <= now.getTime();
}
