"""chat.services: pushes wait for commit, edits and deletions, the change counter, replay
pages, presence counting, the per-user frame limit and the offline email."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from careconnect.audit.models import AuditEvent
from chat import limits, presence, services
from chat.models import CardState, Message, Participant
from chat.tasks import notify_unread_task
from tests.chat.conftest import Chat, make_grant
from tests.factories import make_patient

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _later(minutes: float) -> Any:
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


# ------------------------------------------------------------------ after commit


def test_pushes_and_reminders_wait_for_the_commit(
    chat: Chat, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed: list[tuple[UUID, str]] = []
    scheduled: list[UUID] = []
    monkeypatch.setattr(
        services, "push_message", lambda *, message_id, event: pushed.append((message_id, event))
    )
    monkeypatch.setattr(
        services,
        "schedule_unread_notifications",
        lambda *, message_id: scheduled.append(message_id),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.send_text(
            conversation_id=chat.conversation.id, actor=chat.patient, body="Hello"
        )
        assert pushed == []
        assert scheduled == []
    for callback in callbacks:
        callback()
    assert pushed == [(message.id, "message.new")]
    assert scheduled == [message.id]


def test_a_reminder_is_scheduled_once_per_unread_run_with_the_configured_countdown(
    chat: Chat,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.CHAT_OFFLINE_NOTIFY_MINUTES = 7
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(notify_unread_task, "apply_async", lambda **kw: queued.append(kw))

    def send(body: str) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            return services.send_text(
                conversation_id=chat.conversation.id, actor=chat.doctor, body=body
            )

    send("one")
    send("two")  # the same unread run: no second task
    assert queued == [
        {"args": (str(chat.conversation.id), str(chat.patient.id)), "countdown": 7 * 60}
    ]
    services.mark_read(conversation_id=chat.conversation.id, actor=chat.patient, seq=3)
    send("three")  # a new run after reading
    assert len(queued) == 2


# ------------------------------------------------------------------ edit, delete, change


def test_edit_is_allowed_for_15_minutes_then_refused(chat: Chat) -> None:
    message = services.send_text(conversation_id=chat.conversation.id, actor=chat.patient, body="a")
    with _later(14):
        edited = services.edit_message(actor=chat.patient, message_id=message.id, body="b")
    assert services.open_body(edited, chat.conversation) == "b"
    assert edited.edited_at is not None
    with _later(16), pytest.raises(services.EditWindowClosedError):
        services.edit_message(actor=chat.patient, message_id=message.id, body="c")
    assert (
        AuditEvent.objects.filter(action="chat.message.edit", object_id=str(message.id)).count()
        == 1
    )


def test_delete_wipes_the_body_keeps_the_place_and_is_audited(chat: Chat) -> None:
    message = services.send_text(
        conversation_id=chat.conversation.id, actor=chat.patient, body="regrettable"
    )
    deleted = services.delete_message(actor=chat.patient, message_id=message.id)
    row = Message.objects.get(id=message.id)
    assert row.body_sealed is None
    assert row.deleted_at is not None
    frame = services.message_frame(deleted, chat.conversation)
    assert (frame["seq"], frame["deleted"], frame["body"]) == (message.seq, True, "")
    again = services.delete_message(actor=chat.patient, message_id=message.id)
    assert again.change == deleted.change  # deleting twice changes nothing
    event = AuditEvent.objects.get(action="chat.message.delete")
    assert (event.actor, event.patient, event.object_id) == (
        chat.patient,
        chat.patient,
        str(message.id),
    )
    with pytest.raises(services.NotEditableError):
        services.edit_message(actor=chat.patient, message_id=message.id, body="back")


def test_cards_and_other_peoples_messages_cannot_be_changed(chat: Chat) -> None:
    card = Message.objects.get(conversation=chat.conversation, kind="action")
    with pytest.raises(services.NotYourMessageError):  # the booking card is the patient's
        services.delete_message(actor=chat.doctor, message_id=card.id)
    with pytest.raises(services.NotEditableError):
        services.delete_message(actor=chat.patient, message_id=card.id)


def test_every_new_or_changed_message_takes_the_next_change_number(chat: Chat) -> None:
    first = services.send_text(conversation_id=chat.conversation.id, actor=chat.patient, body="x")
    assert first.change == 2  # the booking card was 1
    edited = services.edit_message(actor=chat.patient, message_id=first.id, body="y")
    assert edited.change == 3
    card = Message.objects.get(conversation=chat.conversation, kind="action")
    services.update_cards(target=chat.appointment, state=CardState.CANCELLED)
    card.refresh_from_db()
    assert (card.state, card.change) == (CardState.CANCELLED, 4)
    chat.conversation.refresh_from_db()
    assert (chat.conversation.last_seq, chat.conversation.last_change) == (2, 4)


def test_replay_is_paged_and_names_conversations_with_more(chat: Chat) -> None:
    for n in range(3):
        services.send_text(conversation_id=chat.conversation.id, actor=chat.doctor, body=f"{n}")
    key = str(chat.conversation.id)
    replay = services.replay_since(actor=chat.patient, cursors={key: 0}, changes={key: 0}, limit=2)
    assert [f["message"]["seq"] for f in replay.frames if f["type"] == "message.new"] == [1, 2]
    assert replay.cursors == {key: 2}
    assert replay.changes == {key: 0}  # a cut page claims no change beyond what was asked
    assert replay.more == [key]
    rest = services.replay_since(actor=chat.patient, cursors={key: 2}, changes={key: 0}, limit=2)
    assert [f["message"]["seq"] for f in rest.frames if f["type"] == "message.new"] == [3, 4]
    participant = Participant.objects.get(conversation=chat.conversation, user=chat.patient)
    assert (participant.delivered_seq, participant.read_seq) == (4, 0)


# ------------------------------------------------------------------ presence and limits


def test_presence_counts_sockets_across_tabs_and_remembers_last_seen(chat: Chat) -> None:
    user_id = chat.doctor.id
    assert presence.socket_opened(user_id) is True
    assert presence.socket_opened(user_id) is False  # a second tab
    assert presence.socket_closed(user_id) is False
    assert presence.is_online(user_id)
    assert presence.socket_closed(user_id) is True
    seen = presence.snapshot([user_id])[str(user_id)]
    assert seen.online is False
    assert seen.last_seen is not None


def test_a_refresh_restores_a_counter_that_expired_while_sockets_stayed_open(chat: Chat) -> None:
    user_id = str(chat.doctor.id)
    presence.socket_opened(user_id)
    cache.delete(f"chat:online:{user_id}")  # as if the TTL ran out
    assert not presence.is_online(user_id)
    presence.refresh({user_id: 2})
    assert presence.is_online(user_id)


def test_frame_limit_admits_a_burst_per_window_per_user(settings: Any) -> None:
    settings.CHAT_RATE_BURST, settings.CHAT_RATE_PER_SECOND = 30, 10
    assert limits.window_seconds() == 3
    with time_machine.travel(1_800_000_000.0, tick=False) as clock:  # a window start
        assert all(limits.allow_frame("u1") for _ in range(30))
        assert not limits.allow_frame("u1")
        assert limits.allow_frame("u2")
        clock.shift(3)
        assert limits.allow_frame("u1")


# ------------------------------------------------------------------ offline email


def _unread_email_flow(chat: Chat, capture: Capture) -> Message:
    with capture(execute=True):
        return services.send_text(
            conversation_id=chat.conversation.id, actor=chat.doctor, body="Your blood sugar is high"
        )


def test_an_offline_recipient_gets_one_email_naming_the_sender_never_the_content(
    chat: Chat, django_capture_on_commit_callbacks: Capture
) -> None:
    _unread_email_flow(chat, django_capture_on_commit_callbacks)
    assert mail.outbox == []  # at commit the message is brand new: nothing yet
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        assert services.notify_unread(conversation_id=chat.conversation.id, user_id=chat.patient.id)
        assert not services.notify_unread(
            conversation_id=chat.conversation.id, user_id=chat.patient.id
        )  # a duplicate task delivery
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [chat.patient.email]
    assert f"Dr {chat.doctor.full_name}" in email.body
    assert f"/messages/{chat.conversation.id}" in email.body
    assert "blood sugar" not in f"{email.subject} {email.body}"
    # more messages in the same unread run: no second email
    _unread_email_flow(chat, django_capture_on_commit_callbacks)
    with _later(30), django_capture_on_commit_callbacks(execute=True):
        assert not services.notify_unread(
            conversation_id=chat.conversation.id, user_id=chat.patient.id
        )
    # after reading, a new run earns a new email
    services.mark_read(conversation_id=chat.conversation.id, actor=chat.patient, seq=3)
    _unread_email_flow(chat, django_capture_on_commit_callbacks)
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        assert services.notify_unread(conversation_id=chat.conversation.id, user_id=chat.patient.id)
    assert len(mail.outbox) == 2


def test_no_email_when_the_recipient_is_online_or_has_read_it(
    chat: Chat, django_capture_on_commit_callbacks: Capture
) -> None:
    message = _unread_email_flow(chat, django_capture_on_commit_callbacks)
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        presence.socket_opened(chat.patient.id)  # a tab open (its counter kept alive)
        assert not services.notify_unread(
            conversation_id=chat.conversation.id, user_id=chat.patient.id
        )
        presence.socket_closed(chat.patient.id)
    services.mark_read(conversation_id=chat.conversation.id, actor=chat.patient, seq=message.seq)
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        assert not services.notify_unread(
            conversation_id=chat.conversation.id, user_id=chat.patient.id
        )
    assert mail.outbox == []


def test_a_proxy_whose_grant_was_revoked_gets_no_email(
    chat: Chat, django_capture_on_commit_callbacks: Capture
) -> None:
    family = make_patient()
    grant = make_grant(chat.patient, family, ["message"])
    services.mark_read(conversation_id=chat.conversation.id, actor=family, seq=1)  # joins
    _unread_email_flow(chat, django_capture_on_commit_callbacks)
    grant.status = grant.Status.REVOKED
    grant.save(update_fields=["status"])
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        assert not services.notify_unread(conversation_id=chat.conversation.id, user_id=family.id)
    assert mail.outbox == []


def test_a_card_whose_handler_updates_other_cards_keeps_change_numbers_unique(chat: Chat) -> None:
    # given: cancelling through chat updates the booking card, then appends the cancel card
    services.submit_action(
        conversation_id=chat.conversation.id,
        actor=chat.patient,
        name="booking.cancel_appointment",
        payload={"appointment": str(chat.appointment.id)},
    )
    changes = list(
        Message.objects.filter(conversation=chat.conversation).values_list("change", flat=True)
    )
    chat.conversation.refresh_from_db()
    assert len(changes) == len(set(changes))
    assert chat.conversation.last_change == max(changes) == 3
    booking_card = Message.objects.get(action="booking.book_appointment")
    assert booking_card.state == CardState.CANCELLED
