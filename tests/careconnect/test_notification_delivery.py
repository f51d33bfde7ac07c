"""Notification delivery with a real Celery worker and the Redis broker (issue: reminders and
notifications, Acceptance): reminders due now are delivered once each per (recipient,
channel); a worker killed with SIGKILL mid-batch leaves its in-flight messages unacknowledged
(late ack), the broker hands them to a new worker, and every notification ends `sent` with
exactly one file: a retry rewrites the file named by the row, never adds one.

Only for PostgreSQL + Redis (like the cross-process chat tests): the worker is a separate
process sharing pytest-django's test database, the var dir and the key ring."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking import reminders
from booking.models import Appointment, Mode, Slot, SlotMode
from careconnect.accounts.models import DoctorProfile, User
from careconnect.celery import app as celery_app
from careconnect.notifications import phones
from careconnect.notifications.models import Channel, Kind, Notification
from careconnect.notifications.services import notify, update_preferences
from tests.chat.live import ROOT, needs_postgres_and_redis, server_env
from tests.factories import make_doctor, make_patient

pytestmark = [needs_postgres_and_redis, pytest.mark.django_db(transaction=True)]

TIMEOUT = 120.0  # a worker importing Django on a loaded 2-core box, and the redelivery


@dataclass
class Worker:
    """One `celery -A careconnect worker` process (its own process group, so SIGKILL takes
    the pool's children with it, as a killed container would)."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "careconnect", "worker",
                    "--loglevel", "INFO", "--concurrency", "4", "--pool", "prefork",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--hostname", f"{self.name}@%h",
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


@dataclass
class Workers:
    var_dir: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def start(self, name: str) -> Worker:
        worker = Worker(name, self.env, self.var_dir / f"{name}.log")
        worker.start()
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(
            f"===== {w.name}\n{w.log_path.read_text(errors='replace')[-6000:]}"
            for w in self.started
            if w.log_path.exists()
        )

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def sms_dir(self) -> Path:
        return self.var_dir / "sms"


def broker() -> redis.Redis:
    return redis.Redis.from_url(str(settings.REDIS_URL))


@pytest.fixture
def workers(tmp_path: Path, transactional_db: None, settings: Any) -> Iterator[Workers]:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = server_env(var_dir)
    env.update(
        CELERY_BROKER_URL=str(settings.REDIS_URL),  # the real broker (not the chat's memory://)
        DJANGO_SETTINGS_MODULE="tests.careconnect.worker_settings",
    )
    # this process queues to the same Redis and writes phone codes where it can read them
    settings.SMS_DIR = tmp_path / "codes"
    celery_app.conf.task_always_eager = False
    broker().flushdb()  # a clean queue: nothing left over from another run
    running = Workers(var_dir, env)
    try:
        yield running
    finally:
        for worker in running.started:
            try:
                worker.stop()
            finally:
                worker.kill()
        celery_app.conf.task_always_eager = True
        broker().flushdb()


def wait_until(check: Callable[[], bool], what: str, workers: Workers) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.05)


def with_sms(user: User, codes: Path) -> User:
    verification = phones.start_verification(actor=user, number=f"+35191{user.pk.int % 10**7:07d}")
    text = (codes / f"verify-{verification.id}.txt").read_text()
    code = re.search(r"code is (\d{6})", text)
    assert code, text
    phones.confirm_verification(actor=user, code=code.group(1))
    update_preferences(actor=user, kinds={Kind.APPOINTMENT_REMINDER: {"sms": True}})
    return user


def appointment_due_now(doctor: DoctorProfile, patient: User, n: int) -> Appointment:
    """An appointment whose 2 h reminder came due within the last minute (booked days ago)."""
    start = timezone.now() + timedelta(hours=2) - timedelta(seconds=30) + timedelta(seconds=n)
    slot = Slot.objects.create(
        doctor=doctor,
        start=start,
        end=start + timedelta(minutes=30),
        mode=SlotMode.BOTH,
        opens_at=start - timedelta(days=30),
        closes_at=start,
    )
    appointment = Appointment.objects.create(
        doctor=doctor,
        patient=patient,
        booked_by=patient,
        slot=slot,
        start=slot.start,
        end=slot.end,
        mode=Mode.IN_PERSON,
    )
    Appointment.objects.filter(id=appointment.id).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    return appointment


def files_by_row(workers: Workers) -> Counter[str]:
    """Row id -> number of files named by it (email .eml and SMS .txt, temporaries too)."""
    found: Counter[str] = Counter()
    for directory in (workers.mail_dir, workers.sms_dir):
        if not directory.exists():
            continue
        for path in directory.iterdir():
            stem = path.name.lstrip(".").removeprefix("n-").split(".")[0]
            found[stem] += 1
    return found


def test_reminders_due_now_are_delivered_once_per_recipient_and_channel(
    workers: Workers,
) -> None:
    # given: ten patients (three with SMS) whose 2 h reminder came due within the minute
    patients = [make_patient() for _ in range(10)]
    for patient in patients[:3]:
        with_sms(patient, Path(settings.SMS_DIR))
    appointments = [
        appointment_due_now(DoctorProfile.objects.get(user=make_doctor()), p, n)
        for n, p in enumerate(patients)
    ]  # a doctor each: one doctor's appointments may not overlap
    # when: the beat's scan runs (twice, as two beats might) and a real worker delivers
    owed = reminders.send_due_reminders()
    assert owed == 10 * 2 + 3  # email and in-app each, SMS for three
    assert reminders.send_due_reminders() == 0
    workers.start("w1")
    rows = Notification.objects.filter(event="reminder")
    wait_until(
        lambda: rows.filter(status=Notification.Status.SENT).count() == owed,
        "every reminder sent",
        workers,
    )
    # then: one row per (recipient, channel, offset), each sent once
    per = Counter((r.recipient_id, r.channel, r.dedupe_key.split(":")[2]) for r in rows)
    assert set(per.values()) == {1}
    assert {(r.recipient_id, r.channel) for r in rows} == {
        (p.id, c) for p in patients for c in (Channel.EMAIL, Channel.IN_APP)
    } | {(p.id, Channel.SMS) for p in patients[:3]}
    assert {r.subject_id for r in rows} == {str(a.id) for a in appointments}
    assert all(r.attempts == 1 and r.sent_at is not None for r in rows)
    # and: exactly one file per email and SMS row, named by it, and no other file
    files = files_by_row(workers)
    assert files == Counter(str(r.id) for r in rows if r.channel != Channel.IN_APP)
    assert len(list(workers.mail_dir.glob("n-*.eml"))) == 10
    assert len(list(workers.sms_dir.glob("*.txt"))) == 3
    # and: the worker's own beat task owes nothing more
    from booking.tasks import send_due_reminders_task

    result = send_due_reminders_task.apply_async()
    assert result.id
    time.sleep(3)
    assert rows.count() == owed


BATCH = 200


def test_a_worker_killed_mid_batch_leaves_nothing_undelivered_or_sent_twice(
    workers: Workers,
) -> None:
    # given: 200 notifications owed (by email), queued in one commit
    users = [make_patient() for _ in range(20)]
    with transaction.atomic():
        for n in range(BATCH):
            notify(
                recipient=users[n % len(users)],
                kind=Kind.MESSAGE,
                event="message_unread",
                key=f"acceptance:{n}",
                title="New message on CareConnect",
                body=f"You have a new message (#{n}).",
                channels={Channel.EMAIL},
            )
    rows = Notification.objects.filter(event="message_unread")
    assert rows.count() == BATCH
    sent = rows.filter(status=Notification.Status.SENT)
    # when: a worker starts delivering, and is killed with SIGKILL mid-batch
    first = workers.start("w1")
    wait_until(lambda: sent.count() >= 10, "the first deliveries", workers)
    first.kill()
    at_kill = Counter(rows.values_list("status", flat=True))
    in_flight = broker().hlen("unacked")  # taken by the killed worker, never acknowledged
    print(f"at the kill: {dict(at_kill)}, unacknowledged messages: {in_flight}")  # noqa: T201
    assert 0 < at_kill[Notification.Status.SENT] < BATCH, at_kill
    assert in_flight > 0
    left_sending = set(rows.filter(status=Notification.Status.SENDING).values_list("id", flat=True))
    # and: a new worker starts
    workers.start("w2")
    wait_until(lambda: sent.count() == BATCH, "every notification sent", workers)
    wait_until(lambda: broker().hlen("unacked") == 0, "every message acknowledged", workers)
    # then: each notification was delivered once: one file per row id, none twice
    files = files_by_row(workers)
    assert files == Counter(str(row_id) for row_id in rows.values_list("id", flat=True))
    assert set(files.values()) == {1}
    assert len(list(workers.mail_dir.glob("n-*.eml"))) == BATCH
    # rows the killed worker left `sending` were delivered again by the broker's redelivery
    for row in rows.filter(id__in=left_sending):
        assert row.status == Notification.Status.SENT
        assert row.attempts == 2
    # no other row took a second attempt, and nothing was left undelivered
    assert set(rows.exclude(id__in=left_sending).values_list("attempts", flat=True)) == {1}
    assert not rows.exclude(status=Notification.Status.SENT).exists()
