"""Delivery under failure (issue 4, Acceptance): clients send with retry (the same
`client_id` until acked) while one of two daphne processes is killed with SIGKILL and
restarted mid-stream. Afterwards every acknowledged message is stored exactly once, every
recipient (on either process, reconnecting with `sync` from its cursors) holds each exactly
once, and every conversation's `seq` is 1..N without a gap, in the database and in what
each client holds.

Two conversations, each with two senders writing concurrently (so they contend for the
conversation's seq), and a second socket per user (another tab) that only reads. On the
process that gets killed: two senders (they fail over to the other process) and two readers
(they wait for the restarted process and come back to it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
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

MESSAGES_PER_SENDER = 50
AFTER_RESTART = 10  # each sender's last messages wait for the restarted process
KILL_AFTER_ACKS = 60  # of the 200: the kill lands mid-stream, frames in flight
REPEATED = 5  # frames each sender sends again at the end, as after a lost ack
PACE = 0.15  # seconds between a sender's frames: under the 10 frames/s per-user limit
TIMEOUT = 120.0  # generous, for a loaded 2-core box


@pytest.fixture
def cluster(tmp_path: Path, transactional_db: None) -> Iterator[Cluster]:
    with running_cluster(tmp_path) as running:
        yield running


@dataclass
class Run:
    senders: list[ChatClient]
    readers: list[ChatClient]
    conversations: list[str]

    @property
    def clients(self) -> list[ChatClient]:
        return [*self.senders, *self.readers]

    def acked(self) -> int:
        return sum(len(s.acked) for s in self.senders)


async def _send_all(sender: ChatClient, conversation: str, restarted: asyncio.Event) -> None:
    for n in range(MESSAGES_PER_SENDER):
        if n == MESSAGES_PER_SENDER - AFTER_RESTART:
            await restarted.wait()
        await sender.send_text(conversation, f"{sender.name} #{n}")
        await asyncio.sleep(PACE)
    while sender.outbox:  # retry until everything is acked
        await sender.resend_stale()
        await asyncio.sleep(0.1)


async def _scenario(run: Run, a: Daphne) -> None:
    restarted = asyncio.Event()
    for client in run.clients:
        client.start()
    try:
        for client in run.clients:
            await client.sync_and_wait(TIMEOUT)
        sending = [
            asyncio.create_task(_send_all(s, s.conversations[0], restarted)) for s in run.senders
        ]
        # when: process A is killed mid-stream, and started again on the same port
        await wait_until(lambda: run.acked() >= KILL_AFTER_ACKS, TIMEOUT, "the first acks")
        a.kill()
        a.start()
        await asyncio.to_thread(a.wait_ready)
        await wait_until(
            lambda: all(c._connected.is_set() for c in run.clients), TIMEOUT, "reconnects"
        )
        restarted.set()
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*sending)
        # and: each sender sends its first frames once more, as after a lost ack (their
        # first acks came from the process that was killed, or from the other one)
        for sender in run.senders:
            await sender.send_again(list(sender.frames)[:REPEATED])
        await wait_until(
            lambda: not any(s.outbox for s in run.senders), TIMEOUT, "acks of the repeats"
        )
        # then: every recipient syncs from its cursors (repairing any push the layer lost)
        for client in run.clients:
            await client.sync_and_wait(TIMEOUT)
    finally:
        for client in run.clients:
            await client.close()


def test_every_acknowledged_message_arrives_once_across_a_sigkill(cluster: Cluster) -> None:
    # given: two conversations, two server processes
    pairs = [make_pair(), make_pair()]
    a, b = cluster.start("A", "B")
    cookies = {}
    for pair in pairs:
        cookies[pair.patient.id] = sign_in(a, pair.patient)
        cookies[pair.doctor.id] = sign_in(b, pair.doctor)
    c1, c2 = (str(p.conversation.id) for p in pairs)
    (p1, d1), (p2, d2) = ((cookies[p.patient.id], cookies[p.doctor.id]) for p in pairs)
    run = Run(
        senders=[
            ChatClient("P1 sender", p1, [a, b], [c1], failover=True),
            ChatClient("D1 sender", d1, [b, a], [c1], failover=True),
            ChatClient("P2 sender", p2, [b, a], [c2], failover=True),
            ChatClient("D2 sender", d2, [a, b], [c2], failover=True),
        ],
        readers=[
            ChatClient("P1 reader", p1, [b], [c1]),
            ChatClient("D1 reader", d1, [a], [c1]),
            ChatClient("P2 reader", p2, [a], [c2]),
            ChatClient("D2 reader", d2, [b], [c2]),
        ],
        conversations=[c1, c2],
    )
    try:
        asyncio.run(_scenario(run, a))
    except BaseException:
        print(cluster.logs())  # noqa: T201 - shown by pytest on failure
        raise

    for client in run.clients:  # shown with -s, or on failure
        print(  # noqa: T201
            f"{client.name}: connects {client.connects}, resent {client.resent}, "
            f"duplicate pushes {client.duplicates}, errors {[e['code'] for e in client.errors]}"
        )
    # the kill really happened mid-stream: A's clients lost their sockets
    assert a.starts == 2
    for client in run.clients:
        assert client.failures == [], (client.name, client.failures)
        if "A" in client.connects[:1]:
            assert len(client.connects) >= 2, (client.name, client.connects)
    # readers of A came back to the restarted A and got live pushes from it
    for reader in run.readers:
        if reader.connects[0] == "A":
            assert len(reader.connects) >= 2, reader.connects
            assert set(reader.connects[1:]) == {"A"}, reader.connects
            assert reader.pushes_after_connect[len(reader.connects)] > 0, reader.name

    # a repeated frame is answered with the same message (same id, same seq), stored once
    for sender in run.senders:
        answers: dict[str, set[tuple[str, int]]] = {}
        for cid, message in sender.acks:
            answers.setdefault(cid, set()).add((message["id"], message["seq"]))
        assert all(len(a) == 1 for a in answers.values()), sender.name
        assert sum(1 for cid, _ in sender.acks if cid in list(sender.frames)[:REPEATED]) >= (
            2 * REPEATED
        )
    acked = {cid: m for s in run.senders for cid, m in s.acked.items()}
    assert len(acked) == 4 * MESSAGES_PER_SENDER
    for conversation in run.conversations:
        rows = list(
            Message.objects.filter(conversation_id=conversation)
            .order_by("seq")
            .values_list("seq", "id", "client_id")
        )
        # then: seq is 1..N without a gap, and nothing was stored twice
        n = 2 * MESSAGES_PER_SENDER
        assert [seq for seq, _, _ in rows] == list(range(1, n + 1))
        by_client_id = {str(cid): (seq, str(mid)) for seq, mid, cid in rows}
        assert len(by_client_id) == n
        mine = {cid: m for cid, m in acked.items() if m["conversation"] == conversation}
        assert len(mine) == n
        for cid, message in mine.items():
            assert by_client_id[cid] == (message["seq"], message["id"])
        # and every client in the conversation holds exactly those messages, once each
        expected = {seq: str(mid) for seq, mid, _ in rows}
        for client in run.clients:
            if conversation not in client.conversations:
                continue
            held = {seq: m["id"] for seq, m in client.store[conversation].items()}
            assert held == expected, client.name
            assert client.cursor(conversation) == n
