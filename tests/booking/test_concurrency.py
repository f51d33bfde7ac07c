"""One booking per slot under real concurrency, and the database constraints behind it.

The races run on PostgreSQL only, in real threads each with its own connection (closed when
the thread ends), on committed data (`transaction=True`): SQLite serialises writers, so a
race there proves nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking import services
from booking.models import Appointment, Slot, SlotMode, WaitlistEntry
from booking.selectors import LIVE
from careconnect.accounts.models import DoctorProfile, User
from tests.booking.conftest import free_slots_of
from tests.factories import make_patient

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and constraints"
)


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, released together by a barrier. Each result is what
    the call returned or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def _unexpected(results: list[Any]) -> list[Any]:
    return [r for r in results if not isinstance(r, Appointment | services.SlotTakenError)]


def _insert(slot: Slot, patient: User, **fields: Any) -> Appointment:
    """An appointment row written straight through the ORM, bypassing the services."""
    values: dict[str, Any] = {"start": slot.start, "end": slot.end, **fields}
    return Appointment.objects.create(
        doctor=slot.doctor, patient=patient, booked_by=patient, slot=slot, mode="online", **values
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_patients_racing_for_one_slot_get_exactly_one_appointment(slot: Slot) -> None:
    # given: fifty patients, each about to book the same time
    patients = [make_patient() for _ in range(50)]
    # when
    results = _race(
        [partial(services.book_slot, actor=p, slot_id=slot.id, mode="online") for p in patients]
    )
    # then: one wins, forty-nine are told the slot was taken
    booked = [r for r in results if isinstance(r, Appointment)]
    taken = [r for r in results if isinstance(r, services.SlotTakenError)]
    assert (len(booked), len(taken)) == (1, 49), _unexpected(results)
    live = Appointment.objects.filter(LIVE, slot=slot)
    assert [a.id for a in live] == [booked[0].id]
    assert Appointment.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reschedule_racing_a_booking_for_the_same_slot_never_gets_both_or_neither(
    scheduled_doctor: User,
) -> None:
    # given: twenty rounds, each an appointment on one slot and a free target slot
    tomorrow = timezone.now() + timedelta(days=1)
    slots = [s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow][:40]
    assert len(slots) == 40
    outcomes: list[str] = []
    for old, target in zip(slots[::2], slots[1::2], strict=True):
        mover, rival = make_patient(), make_patient()
        appointment = services.book_slot(actor=mover, slot_id=old.id, mode="online")
        # when: the patient moves to the target while someone else books it
        moved, rival_booking = _race(
            [
                partial(
                    services.reschedule_appointment,
                    actor=mover,
                    appointment_id=appointment.id,
                    slot_id=target.id,
                ),
                partial(services.book_slot, actor=rival, slot_id=target.id, mode="online"),
            ]
        )
        # then: exactly one live appointment on the target ...
        assert Appointment.objects.filter(LIVE, slot=target).count() == 1, (moved, rival_booking)
        # ... and the moved appointment holds exactly one of its old and new slots
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CONFIRMED
        if isinstance(moved, Appointment):
            assert isinstance(rival_booking, services.SlotTakenError), rival_booking
            assert (appointment.slot_id, appointment.start) == (target.id, target.start)
            assert not Appointment.objects.filter(LIVE, slot=old).exists()
            outcomes.append("moved")
        else:
            assert isinstance(moved, services.SlotTakenError), moved
            assert isinstance(rival_booking, Appointment), rival_booking
            assert (appointment.slot_id, appointment.start) == (old.id, old.start)
            assert appointment.reschedule_count == 0
            outcomes.append("stayed")
    # and: every round left one appointment per patient who got a time, none lost or doubled
    live = Appointment.objects.filter(LIVE)
    assert live.count() == len(outcomes) + outcomes.count("stayed")
    assert live.values("slot").distinct().count() == live.count()


@postgres_only
@pytest.mark.django_db
def test_postgres_refuses_overlapping_live_appointments_of_one_doctor(slot: Slot) -> None:
    # given: a live appointment, and a second slot of the doctor overlapping its time
    patient = make_patient()
    _insert(slot, patient)
    overlapping = Slot.objects.create(
        doctor=slot.doctor,
        start=slot.start + timedelta(minutes=15),
        end=slot.end + timedelta(minutes=15),
        mode=SlotMode.BOTH,
        opens_at=slot.opens_at,
        closes_at=slot.closes_at,
    )
    # when: a second live appointment is written on it, bypassing every service check
    with (
        pytest.raises(IntegrityError, match="appointment_no_overlap_per_doctor"),
        transaction.atomic(),
    ):
        _insert(overlapping, make_patient())
    # then
    assert list(Appointment.objects.values_list("slot", flat=True)) == [slot.id]
    # and: a cancelled one may overlap
    _insert(overlapping, make_patient(), status=Appointment.Status.CANCELLED)
    assert Appointment.objects.count() == 2


@pytest.mark.django_db
def test_the_database_allows_one_live_appointment_per_slot_and_ignores_cancelled_ones(
    slot: Slot, scheduled_doctor: User
) -> None:
    # given: a cancelled appointment on the slot does not block a live one
    _insert(slot, make_patient(), status=Appointment.Status.CANCELLED)
    live = _insert(slot, make_patient())
    # when: a second live appointment on the slot, its times moved off the first one's so only
    # the per-slot index (not PostgreSQL's overlap constraint) can refuse it
    far = {"start": slot.start + timedelta(days=3), "end": slot.end + timedelta(days=3)}
    with (
        pytest.raises(
            IntegrityError, match=r"appointment_one_live_per_slot|booking_appointment\.slot_id"
        ),
        transaction.atomic(),
    ):
        _insert(slot, make_patient(), **far)
    # then
    assert [a.id for a in Appointment.objects.filter(LIVE, slot=slot)] == [live.id]
    doctor = DoctorProfile.objects.get(user=scheduled_doctor)
    assert Appointment.objects.filter(doctor=doctor).count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_cancellation_racing_a_booking_of_the_same_slot_ends_in_a_clean_answer(
    scheduled_doctor: User,
) -> None:
    # given: twenty booked slots
    tomorrow = timezone.now() + timedelta(days=1)
    slots = [s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow][:20]
    rebooked = 0
    for target in slots:
        owner, rival = make_patient(), make_patient()
        appointment = services.book_slot(actor=owner, slot_id=target.id, mode="online")
        # when: the owner cancels while someone tries to book the time
        cancelled, rival_booking = _race(
            [
                partial(services.cancel_appointment, actor=owner, appointment_id=appointment.id),
                partial(services.book_slot, actor=rival, slot_id=target.id, mode="online"),
            ]
        )
        # then: the cancellation always goes through; the rival gets the time or a 409,
        # never a database error
        assert isinstance(cancelled, Appointment), cancelled
        assert isinstance(rival_booking, Appointment | services.SlotTakenError), rival_booking
        rebooked += isinstance(rival_booking, Appointment)
        assert Appointment.objects.filter(LIVE, slot=target).count() == int(
            isinstance(rival_booking, Appointment)
        )
    assert Appointment.objects.filter(LIVE).count() == rebooked


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reschedule_away_racing_a_booking_of_the_old_slot_ends_in_a_clean_answer(
    scheduled_doctor: User,
) -> None:
    # given: twenty rounds of an appointment and a free slot to move it to
    tomorrow = timezone.now() + timedelta(days=1)
    slots = [s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow][:40]
    for old, new in zip(slots[::2], slots[1::2], strict=True):
        mover, rival = make_patient(), make_patient()
        appointment = services.book_slot(actor=mover, slot_id=old.id, mode="online")
        # when: the patient moves away while someone tries to book the old time
        moved, rival_booking = _race(
            [
                partial(
                    services.reschedule_appointment,
                    actor=mover,
                    appointment_id=appointment.id,
                    slot_id=new.id,
                ),
                partial(services.book_slot, actor=rival, slot_id=old.id, mode="online"),
            ]
        )
        # then: the move always succeeds; the rival gets the old time or a 409
        assert isinstance(moved, Appointment), moved
        assert isinstance(rival_booking, Appointment | services.SlotTakenError), rival_booking
        appointment.refresh_from_db()
        assert appointment.slot_id == new.id
        assert Appointment.objects.filter(LIVE, slot=old).count() == int(
            isinstance(rival_booking, Appointment)
        )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_leaving_the_waitlist_racing_a_booking_of_the_offered_slot_ends_in_a_clean_answer(
    scheduled_doctor: User,
) -> None:
    # given: ten rounds of a freed slot offered to the first of two people waiting
    tomorrow = timezone.now() + timedelta(days=1)
    slots = [s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow][:10]
    doctor_id = DoctorProfile.objects.get(user=scheduled_doctor).id
    day = timezone.localdate()
    for target in slots:
        booker, first, second = make_patient(), make_patient(), make_patient()
        appointment = services.book_slot(actor=booker, slot_id=target.id, mode="online")
        for patient in (first, second):
            services.join_waitlist(
                actor=patient, doctor_id=doctor_id, earliest=day, latest=day + timedelta(days=30)
            )
        services.cancel_appointment(actor=booker, appointment_id=appointment.id)
        entry = WaitlistEntry.objects.get(patient=first, status=WaitlistEntry.Status.OFFERED)
        # when: the first leaves the waitlist while (say, their proxy) books the offered time
        left, booked = _race(
            [
                partial(services.leave_waitlist, actor=first, entry_id=entry.id),
                partial(services.book_slot, actor=first, slot_id=target.id, mode="online"),
            ]
        )
        # then: either the booking won (and leaving is refused) or leaving won (and the time
        # went on to the second), never a database error
        entries = {
            e.patient_id: e.status for e in WaitlistEntry.objects.filter(doctor_id=doctor_id)
        }
        if isinstance(booked, Appointment):
            assert isinstance(left, services.WrongStateError), left
            assert (entries[first.id], entries[second.id]) == ("booked", "waiting")
        else:
            assert isinstance(booked, services.SlotTakenError), booked
            assert isinstance(left, WaitlistEntry), left
            assert (entries[first.id], entries[second.id]) == ("cancelled", "offered")
        WaitlistEntry.objects.filter(doctor_id=doctor_id).delete()
