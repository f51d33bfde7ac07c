"""`.ics` files for appointments (RFC 5545, built with `icalendar`): the event in the center's
time zone with its VTIMEZONE, an alarm an hour before, and the place or the consult link.
The summary names the doctor but never the reason for the visit."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from booking.models import Appointment, Mode
from careconnect.notifications.services import app_link


def appointment_ics(appointment: Appointment) -> bytes:
    center = appointment.doctor.center
    zone = ZoneInfo(center.timezone or "UTC")
    calendar = Calendar()
    calendar.add("prodid", "-//CareConnect//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.id}@careconnect")
    event.add("dtstamp", appointment.updated_at)
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", f"Appointment with Dr {appointment.doctor.user.full_name}")
    link = app_link("/appointments")
    if appointment.mode == Mode.ONLINE:
        event.add("location", "Online consult")
        event.add("description", f"Online consult on CareConnect. Join from the app: {link}")
    else:
        place = ", ".join(p for p in (center.name, center.address, center.city) if p)
        event.add("location", place)
        event.add("description", f"In-person appointment. Details: {link}")
        if center.latitude is not None and center.longitude is not None:
            event.add("geo", (float(center.latitude), float(center.longitude)))
    event.add("url", link)
    event.add(
        "status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED"
    )
    event.add("sequence", appointment.reschedule_count)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "CareConnect appointment in 1 hour")
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
