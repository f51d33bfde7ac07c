"""Cross-process chat (issue 4, Acceptance): two daphne processes sharing one PostgreSQL
database and one Redis; the sender on one, the recipient on the other. Real sockets, real
session cookies, the Origin of the page."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat.models import Message
from tests.chat.live import (
    ChatClient,
    Cluster,
    Daphne,
    make_pair,
    needs_postgres_and_redis,
    running_cluster,
    sign_in,
    wait_until,
)

pytestmark = [needs_postgres_and_redis, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60.0  # per step, for a loaded 2-core box


@pytest.fixture
def cluster(tmp_path: Path, transactional_db: None) -> Iterator[Cluster]:
    with running_cluster(tmp_path) as running:
        yield running


async def _converse(a: Daphne, b: Daphne, conversation: str, patient: str, doctor: str) -> None:
    sender = ChatClient("patient@A", patient, [a], [conversation])
    recipient = ChatClient("doctor@B", doctor, [b], [conversation])
    clients = [sender, recipient]
    try:
        for client in clients:
            client.start()
        for client in clients:
            await client.wait_connected(TIMEOUT)
            await client.sync_and_wait(TIMEOUT)

        # when: the patient, on process A, writes five messages
        bodies = [f"hello from A #{n}" for n in range(1, 6)]
        sent = [await sender.send_text(conversation, body) for body in bodies]
        await wait_until(lambda: len(sender.acked) == 5, TIMEOUT, "five acks on A")
        # then: the doctor, on process B, receives each as message.new, in seq order
        await wait_until(
            lambda: len(recipient.store[conversation]) == 5, TIMEOUT, "five pushes on B"
        )
        held = recipient.store[conversation]
        assert [held[seq]["body"] for seq in range(1, 6)] == bodies
        assert [held[seq]["id"] for seq in range(1, 6)] == [sender.acked[c]["id"] for c in sent]
        assert recipient.connects == ["B"]  # pushes, not a reconnect's replay

        # and the other way round: B to A
        reply = await recipient.send_text(conversation, "hello from B")
        await wait_until(
            lambda: 6 in sender.store[conversation] and reply in recipient.acked,
            TIMEOUT,
            "the reply on A",
        )
        assert sender.store[conversation][6]["id"] == recipient.acked[reply]["id"]

        # when: the doctor goes away, the patient writes on, and the doctor comes back on
        # the *other* process with sync from their cursor
        await recipient.close()
        missed = [await sender.send_text(conversation, f"while away #{n}") for n in (1, 2, 3)]
        await wait_until(lambda: len(sender.acked) == 8, TIMEOUT, "three more acks")
        back = ChatClient("doctor@A", doctor, [a], [conversation])
        back.store[conversation] = dict(recipient.store[conversation])  # what it held
        clients.append(back)
        back.start()
        await back.wait_connected(TIMEOUT)
        await back.sync_and_wait(TIMEOUT)
        # then: the replay brings exactly what was missed, and the cursor moves to the end
        assert back.cursor(conversation) == 9
        assert [back.store[conversation][seq]["id"] for seq in (7, 8, 9)] == [
            sender.acked[c]["id"] for c in missed
        ]
        assert back.duplicates == 0
        for client in clients:
            assert client.failures == [], (client.name, client.failures)
    finally:
        for client in clients:
            await client.close()


def test_a_message_sent_on_one_process_reaches_a_recipient_on_another(cluster: Cluster) -> None:
    # given: two server processes, a patient and a doctor with a conversation
    pair = make_pair()
    a, b = cluster.start("A", "B")
    patient_cookie = sign_in(a, pair.patient)
    doctor_cookie = sign_in(b, pair.doctor)
    conversation = str(pair.conversation.id)
    # when / then (see _converse)
    try:
        asyncio.run(_converse(a, b, conversation, patient_cookie, doctor_cookie))
    except BaseException:
        print(cluster.logs())  # noqa: T201 - shown by pytest on failure
        raise
    # and: the database holds each message once, seq 1..9 without gaps
    seqs = list(
        Message.objects.filter(conversation=pair.conversation)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 10))
