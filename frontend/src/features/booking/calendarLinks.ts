/**
 * "Add to calendar" links for Google and Outlook.
 *
 * These URLs leave CareConnect (they are stored in someone else's calendar and in browser
 * histories), so they carry no health data: a generic title, the times, and a link back to the
 * app. Never the doctor's name, specialty or the reason for the visit.
 */
import { formatInZone } from '../../lib/zones';

export const CALENDAR_TITLE = 'CareConnect appointment';

export interface CalendarEvent {
  start: string;
  end: string;
  /** Where to see the details, in the app (absolute URL). */
  appUrl: string;
}

/** "20260312T093000Z" (UTC, basic format), as Google Calendar wants. */
export function calendarStamp(iso: string): string {
  return formatInZone(iso, 'UTC', "yyyyMMdd'T'HHmmss'Z'");
}

function details(appUrl: string): string {
  return `Details in CareConnect: ${appUrl}`;
}

export function googleCalendarUrl({ start, end, appUrl }: CalendarEvent): string {
  const params = new URLSearchParams({
    action: 'TEMPLATE',
    text: CALENDAR_TITLE,
    dates: `${calendarStamp(start)}/${calendarStamp(end)}`,
    details: details(appUrl),
  });
  return `https://calendar.google.com/calendar/render?${params.toString()}`;
}

export function outlookCalendarUrl({ start, end, appUrl }: CalendarEvent): string {
  const params = new URLSearchParams({
    path: '/calendar/action/compose',
    rru: 'addevent',
    subject: CALENDAR_TITLE,
    startdt: formatInZone(start, 'UTC', "yyyy-MM-dd'T'HH:mm:ss'Z'"),
    enddt: formatInZone(end, 'UTC', "yyyy-MM-dd'T'HH:mm:ss'Z'"),
    body: details(appUrl),
  });
  return `https://outlook.live.com/calendar/0/deeplink/compose?${params.toString()}`;
}

/** The app page a calendar entry links back to. */
export function appointmentsUrl(origin: string): string {
  return `${origin.replace(/\/+$/, '')}/appointments`;
}
