"""Appointment reminders across a day (issue: reminders and notifications), on a frozen and
travelling clock: the 24 h and 2 h reminders are owed once each per recipient and channel
(rows, and the embedded default's files under MAIL_DIR / SMS_DIR), never early, never after
the grace window, never for an appointment booked after the reminder's time; quiet hours
defer SMS and email (not in-app) until they end; a family member who books gets their own
reminder; texts name date, time, doctor and center in the recipient's zone and never the
reason; one-tap links; escalation of the unconfirmed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from booking import reminders, services
from booking.models import Appointment, BookingPolicy, Slot, WaitlistEntry
from careconnect.accounts.models import CareGrant, DoctorProfile, Role, User
from careconnect.errors import NotFoundError
from careconnect.notifications import phones
from careconnect.notifications.models import Channel, Kind, Notification
from careconnect.notifications.services import (
    LinkExpiredError,
    LinkUsedError,
    release_deferred,
    update_preferences,
    use_link,
)
from tests.booking.conftest import publish_rule
from tests.factories import make_doctor, make_patient, make_staff

# Monday 13 May 2030, 08:00 UTC (09:00 in Lisbon, 04:00 in New York): far from any DST change.
T0 = datetime(2030, 5, 13, 8, 0, tzinfo=UTC)
# Thursday 16 May 2030, 09:00 in Lisbon: three days after T0.
START = datetime(2030, 5, 16, 8, 0, tzinfo=UTC)
DUE_24H = START - timedelta(hours=24)
DUE_2H = START - timedelta(hours=2)
REASON = "recurring chest pain and anxiety"
MINUTE = timedelta(minutes=1)

Capture = Callable[..., Any]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def dirs(settings: Any, tmp_path: Path) -> tuple[Path, Path]:
    settings.EMAIL_BACKEND = "careconnect.notifications.backends.MailDirBackend"
    settings.MAIL_DIR = tmp_path / "mail"
    settings.SMS_DIR = tmp_path / "sms"
    return settings.MAIL_DIR, settings.SMS_DIR


@pytest.fixture
def doctor(clock: Any, db: None) -> User:
    doctor = make_doctor()  # a center in Europe/Lisbon
    publish_rule(doctor)  # every day 09:00-12:00 Lisbon
    return doctor


def slot_at(doctor: User, start: datetime) -> Slot:
    return Slot.objects.get(doctor=DoctorProfile.objects.get(user=doctor), start=start)


def with_sms(user: User, capture: Capture, zone: str, number: str) -> User:
    """Verify a number (the code read from the SMS file), turn SMS on for reminders, and set
    the person's time zone."""
    with capture(execute=True):
        verification = phones.start_verification(actor=user, number=number)
    from django.conf import settings

    text = (Path(settings.SMS_DIR) / f"verify-{verification.id}.txt").read_text()
    code = re.search(r"code is (\d{6})", text)
    assert code, text
    phones.confirm_verification(actor=user, code=code.group(1))
    update_preferences(
        actor=user, kinds={Kind.APPOINTMENT_REMINDER: {"sms": True}}, timezone_name=zone
    )
    return user


def scan(capture: Capture, now: datetime | None = None) -> int:
    """One beat: owe what is due, and deliver it (the tasks run eagerly after commit)."""
    with capture(execute=True):
        return reminders.send_due_reminders(now)


def reminder_rows(appointment: Appointment) -> list[Notification]:
    return list(
        Notification.objects.filter(
            event="reminder", subject_id=str(appointment.id)
        ).select_related("recipient")
    )


def offsets_owed(appointment: Appointment) -> Counter[tuple[str, str, str]]:
    """(offset, recipient, channel) -> number of rows."""
    return Counter(
        (row.dedupe_key.split(":")[2], str(row.recipient_id), row.channel)
        for row in reminder_rows(appointment)
    )


def files(mail_dir: Path, sms_dir: Path) -> set[str]:
    names = {p.name for p in mail_dir.glob("n-*.eml")} if mail_dir.exists() else set()
    names |= {p.name for p in sms_dir.glob("*.txt") if not p.name.startswith("verify-")}
    return names


def expected_files(rows: list[Notification]) -> set[str]:
    return {
        f"n-{row.id}.eml" if row.channel == Channel.EMAIL else f"{row.id}.txt"
        for row in rows
        if row.channel != Channel.IN_APP
    }


@pytest.fixture
def booked(
    doctor: User, dirs: tuple[Path, Path], django_capture_on_commit_callbacks: Capture
) -> Appointment:
    """Booked at T0 by a patient in Lisbon who gets reminders by email, SMS and in-app."""
    patient = with_sms(
        make_patient(), django_capture_on_commit_callbacks, "Europe/Lisbon", "+351912345678"
    )
    return services.book_slot(
        actor=patient, slot_id=slot_at(doctor, START).id, mode="in_person", reason=REASON
    )


def test_each_reminder_is_owed_once_per_channel_at_its_time_never_before_or_after_grace(
    booked: Appointment,
    clock: Any,
    dirs: tuple[Path, Path],
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    patient = booked.patient
    mine = {Channel.EMAIL, Channel.SMS, Channel.IN_APP}
    # when: the beat runs every minute from well before the 24 h reminder to past its grace
    clock.move_to(DUE_24H - 5 * MINUTE)
    seen: list[tuple[datetime, int]] = []
    while (now := datetime.now(UTC)) < DUE_24H + reminders.GRACE + 5 * MINUTE:
        seen.append((now, scan(capture)))
        clock.shift(MINUTE)
    # then: nothing before its time, three rows (one per channel) exactly at it, nothing after
    assert [n for at, n in seen if at < DUE_24H] == [0] * 5
    assert [(at, n) for at, n in seen if n] == [(DUE_24H, 3)]
    assert offsets_owed(booked) == {("1440", str(patient.id), c): 1 for c in mine}
    # and the same around the 2 h reminder
    clock.move_to(DUE_2H - 3 * MINUTE)
    owed = []
    for _ in range(40):
        owed.append(scan(capture))
        clock.shift(MINUTE)
    assert owed == [0, 0, 0, 3] + [0] * 36
    assert offsets_owed(booked) == {
        (offset, str(patient.id), c): 1 for offset in ("1440", "120") for c in mine
    }
    # and every row was sent once: one file per email / SMS row, named by the row
    rows = reminder_rows(booked)
    assert {row.status for row in rows} == {Notification.Status.SENT}
    assert all(row.attempts == 1 for row in rows)
    mail_dir, sms_dir = dirs
    assert files(mail_dir, sms_dir) == expected_files(rows)
    assert len(list(mail_dir.glob("n-*.eml"))) == 2


def test_a_missed_window_is_skipped_and_a_late_booking_gets_no_earlier_reminder(
    doctor: User,
    dirs: tuple[Path, Path],
    clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    early = services.book_slot(
        actor=make_patient(), slot_id=slot_at(doctor, START).id, mode="in_person"
    )
    # given: no beat ran during the whole grace window of the 24 h reminder
    clock.move_to(DUE_24H + reminders.GRACE)
    assert scan(capture) == 0
    assert offsets_owed(early) == {}
    # when: someone books 10 minutes after the 24 h reminder time of their appointment
    later = START + timedelta(minutes=30)
    booked_at = later - timedelta(hours=24) + 10 * MINUTE
    clock.move_to(booked_at)
    late = services.book_slot(
        actor=make_patient(), slot_id=slot_at(doctor, later).id, mode="in_person"
    )
    for minutes in range(0, 40):
        clock.move_to(booked_at + minutes * MINUTE)
        scan(capture)
    # then: no 24 h reminder for it; its 2 h reminder still comes
    assert offsets_owed(late) == {}
    clock.move_to(later - timedelta(hours=2))
    assert scan(capture) == 2  # email and in-app (no SMS number)
    assert {k[0] for k in offsets_owed(late)} == {"120"}


def test_quiet_hours_defer_sms_and_email_until_they_end_in_app_goes_at_once(
    doctor: User,
    dirs: tuple[Path, Path],
    clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    # given: a patient in New York with quiet hours 22:00-07:00 (their time)
    patient = with_sms(make_patient(), capture, "America/New_York", "+12125550123")
    update_preferences(actor=patient, quiet_hours=(time(22, 0), time(7, 0)))
    clock.move_to(T0 + timedelta(hours=4))  # 08:00 in New York: the booking notice goes now
    with capture(execute=True):
        appointment = services.book_slot(
            actor=patient, slot_id=slot_at(doctor, START).id, mode="in_person", reason=REASON
        )
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()
    mail_dir, sms_dir = dirs
    notices = files(mail_dir, sms_dir)  # the booking confirmation's email
    # when: the 2 h reminder falls due at 02:00 in New York (07:00 in Lisbon)
    clock.move_to(DUE_2H)
    assert scan(capture) == 3
    rows = {row.channel: row for row in reminder_rows(appointment)}
    # then: in-app went at once; SMS and email wait for 07:00 New York (11:00 UTC)
    end_of_quiet = datetime(2030, 5, 16, 11, 0, tzinfo=UTC)
    assert rows[Channel.IN_APP].status == Notification.Status.SENT
    for channel in (Channel.SMS, Channel.EMAIL):
        assert rows[channel].status == Notification.Status.DEFERRED
        assert rows[channel].not_before == end_of_quiet
    assert files(mail_dir, sms_dir) == notices
    # and: the release beat before the end sends nothing
    clock.move_to(end_of_quiet - MINUTE)
    assert release_deferred() == 0
    # when: quiet hours end
    clock.move_to(end_of_quiet + MINUTE)
    assert release_deferred() == 2  # tasks run eagerly
    # then: each is sent once, with the time in New York
    sent = reminder_rows(appointment)
    assert {row.status for row in sent} == {Notification.Status.SENT}
    assert files(mail_dir, sms_dir) == notices | expected_files(sent)
    sms = (sms_dir / f"{rows[Channel.SMS].id}.txt").read_text()
    assert "Thu 16 May at 04:00 (America/New York time)" in sms
    assert release_deferred() == 0


def test_a_family_member_who_books_gets_their_own_reminder_and_texts_hold_no_reason(
    doctor: User,
    dirs: tuple[Path, Path],
    clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    patient = make_patient()
    family = with_sms(make_patient(), capture, "America/New_York", "+12125550199")
    CareGrant.objects.create(
        patient=patient,
        grantee=family,
        email=str(family.email),
        scopes=["book"],
        status=CareGrant.Status.ACTIVE,
    )
    appointment = services.book_slot(
        actor=family,
        slot_id=slot_at(doctor, START).id,
        mode="in_person",
        patient_id=patient.id,
        reason=REASON,
    )
    clock.move_to(DUE_24H)
    assert scan(capture) == 2 + 3  # the patient: email, in-app; the family: email, SMS, in-app
    owed = offsets_owed(appointment)
    assert owed == {
        ("1440", str(patient.id), Channel.EMAIL): 1,
        ("1440", str(patient.id), Channel.IN_APP): 1,
        ("1440", str(family.id), Channel.EMAIL): 1,
        ("1440", str(family.id), Channel.SMS): 1,
        ("1440", str(family.id), Channel.IN_APP): 1,
    }
    center = DoctorProfile.objects.get(user=doctor).center
    mail_dir, sms_dir = dirs
    doctor_name = f"Dr {doctor.full_name}"
    for row in reminder_rows(appointment):
        text = f"{row.title}\n{row.body}"
        assert doctor_name in text
        assert center.name in text
        if row.recipient_id == patient.id:  # no settings: the center's zone
            assert "Thu 16 May at 09:00 (Europe/Lisbon time)" in text
        else:
            assert "Thu 16 May at 04:00 (America/New York time)" in text
            assert f"for {patient.first_name}" in row.body
        assert REASON not in text
        assert "chest" not in text
    for path in [*mail_dir.glob("n-*.eml"), *sms_dir.glob("*.txt")]:
        content = path.read_text()
        assert REASON not in content
        assert "chest" not in content


def _link(row: Notification, label: str) -> str:
    url = next(a["url"] for a in row.actions if a["label"] == label)
    return str(url).rsplit("/r/", 1)[1]


def test_one_tap_links_confirm_cancel_reschedule_once_and_only_for_their_recipient(
    booked: Appointment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    patient = booked.patient
    clock.move_to(DUE_24H)
    scan(capture)
    email = next(r for r in reminder_rows(booked) if r.channel == Channel.EMAIL)
    # someone else, signed in, opening the patient's link: not found, nothing used
    with pytest.raises(NotFoundError):
        use_link(token=_link(email, "Confirm"), actor=make_patient())
    # confirm (signed out, as from an email)
    result = use_link(token=_link(email, "Confirm"), actor=None)
    assert result["purpose"] == "appointment.confirm"
    booked.refresh_from_db()
    assert booked.attendance_confirmed_via == "link"
    assert booked.attendance_confirmed_at is not None
    # a used link
    with pytest.raises(LinkUsedError):
        use_link(token=_link(email, "Confirm"), actor=None)
    # reschedule: a redirect into the app
    moved = use_link(token=_link(email, "Reschedule"), actor=patient)
    assert moved["redirect"] == f"/appointments?reschedule={booked.id}"
    # cancel
    with capture(execute=True):
        use_link(token=_link(email, "Cancel"), actor=None)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    # and the 2 h reminder never comes for a cancelled appointment
    clock.move_to(DUE_2H)
    assert scan(capture) == 0


def test_a_link_expires_at_the_start(
    booked: Appointment, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clock.move_to(DUE_2H)
    scan(django_capture_on_commit_callbacks)
    row = next(r for r in reminder_rows(booked) if r.channel == Channel.IN_APP)
    clock.move_to(START + MINUTE)
    with pytest.raises(LinkExpiredError):
        use_link(token=_link(row, "Confirm"), actor=None)
    booked.refresh_from_db()
    assert booked.attendance_confirmed_at is None


def test_unconfirmed_at_the_escalation_time_is_listed_for_staff(
    booked: Appointment, doctor: User, clock: Any
) -> None:
    center = DoctorProfile.objects.get(user=doctor).center
    nurse = make_staff(role=Role.NURSE, center=center)
    escalate_at = START - timedelta(minutes=BookingPolicy().escalate_minutes_before or 0)
    clock.move_to(escalate_at - MINUTE)
    assert reminders.escalate_unconfirmed() == 0
    assert reminders.unconfirmed_for(actor=nurse) == []
    clock.move_to(escalate_at)
    assert reminders.escalate_unconfirmed() == 1
    booked.refresh_from_db()
    assert booked.escalated_at == escalate_at
    assert booked.status != Appointment.Status.CANCELLED  # listed, not released
    assert [a.id for a in reminders.unconfirmed_for(actor=nurse)] == [booked.id]
    assert reminders.unconfirmed_for(actor=make_staff(role=Role.NURSE)) == []  # another center
    assert reminders.escalate_unconfirmed() == 0  # once


def test_with_release_the_unconfirmed_is_cancelled_and_offered_to_the_waitlist(
    booked: Appointment, doctor: User, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    center = DoctorProfile.objects.get(user=doctor).center
    BookingPolicy.objects.create(center=center, release_unconfirmed=True)
    waiting = make_patient()
    profile = DoctorProfile.objects.get(user=doctor)
    entry = services.join_waitlist(
        actor=waiting, doctor_id=profile.id, earliest=date(2030, 5, 16), latest=date(2030, 5, 16)
    )
    clock.move_to(START - timedelta(hours=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.escalate_unconfirmed() == 1
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert entry.hold is not None
    assert entry.hold.slot_id == booked.slot_id
    offer = Notification.objects.filter(recipient=waiting, kind=Kind.WAITLIST)
    assert {row.channel for row in offer} == {Channel.EMAIL, Channel.IN_APP}
