"""The /ws/consult/<id>/ consumer end to end: signaling through the real consumer and
channel layer, media through the in-process room to real aiortc client peers."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from channels.testing import WebsocketCommunicator

from careconnect.accounts.models import User
from careconnect.asgi import application
from chat.models import Message
from consult import media
from consult.models import Consult, ConsultParticipant, QualitySample
from consult.services import SUMMARY
from tests.chat.conftest import make_grant
from tests.consult.conftest import (
    BLUE,
    GREEN,
    MEDIA_TESTS,
    RED,
    Call,
    Client,
    admitted_pair,
    amake_call,
    connect,
    consult_app,
    disconnect,
    expect,
    in_thread,
    join,
    wait_until,
)
from tests.factories import make_patient, make_user

pytestmark = [pytest.mark.django_db(transaction=True), MEDIA_TESTS]


async def _closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code of a refused socket (after the error frame explaining it, if any)."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            # Let the application finish here: a socket left to the event loop's shutdown can
            # hang it on a channel-layer read (Redis).
            await communicator.disconnect()
            return int(output["code"])


def _live_peer_connections() -> int:
    gc.collect()
    # type(), not isinstance(): the heap holds dead weak proxies, which raise on isinstance
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), RTCPeerConnection))


# ------------------------------------------------------------------ media end to end


async def test_doctor_and_patient_see_and_hear_each_other_through_the_server(
    clients: list[Client],
) -> None:
    # given: the doctor in the call, the patient admitted from the waiting room
    call = await amake_call()
    doctor_ws, patient_ws = await admitted_pair(call)
    joined = await expect(doctor_ws, "participant.joined")
    assert joined["user"] == str(call.patient.id)
    assert (await expect(patient_ws, "participant.joined"))["user"] == str(call.doctor.id)
    # when: each browser offers through the signaling socket and gets the server's answer
    doctor, patient = Client(GREEN, audio=True), Client(RED, audio=True)
    clients.extend([doctor, patient])
    await doctor.offer(doctor_ws)
    await patient.offer(patient_ws)
    # then: each receives the *other's* picture (content, not just arrival) and tone
    await asyncio.gather(doctor.connected(), patient.connected())
    await asyncio.gather(doctor.sees(RED), patient.sees(GREEN))
    assert min(await asyncio.gather(doctor.hears_a_tone(), patient.hears_a_tone())) > 1000
    # and the server holds one room with two connections, four forwarders, and measures
    assert media.counts()[:3] == (1, 2, 4)
    room = media.get_room(call.appointment.id)
    assert room is not None
    samples = await room.sample_quality()
    assert set(samples) == {str(call.doctor.id), str(call.patient.id)}
    for sample in samples.values():
        assert (sample.bitrate_kbps or 0) > 0
        assert (sample.fps or 0) > 0
        assert sample.packet_loss is not None
        assert sample.packet_loss < 0.5
    # when: the doctor ends the consult
    await doctor_ws.send_json_to({"type": "end"})
    # then: both are told, the media is gone, the summary card is in the conversation
    await expect(doctor_ws, "ended")
    await expect(patient_ws, "ended")
    assert media.counts() == (0, 0, 0, 0)
    summary = await in_thread(lambda: Message.objects.filter(action=SUMMARY).first())()
    assert summary is not None
    assert summary.payload["consult"] == str(call.appointment.id)
    status = await in_thread(lambda: Consult.objects.get(pk=call.appointment.id).status)()
    assert status == Consult.Status.ENDED
    await disconnect(doctor_ws, patient_ws)


async def test_the_patient_sees_the_doctor_again_after_reconnecting(clients: list[Client]) -> None:
    # given: a call in progress
    call = await amake_call()
    doctor_ws, patient_ws = await admitted_pair(call)
    doctor, patient = Client(GREEN), Client(RED)
    clients.extend([doctor, patient])
    await doctor.offer(doctor_ws)
    await patient.offer(patient_ws)
    await patient.sees(GREEN)
    # when: the patient's network drops, and they come back with a new connection and camera
    await patient_ws.disconnect()
    await patient.close()
    left = await expect(doctor_ws, "participant.left")
    assert left["user"] == str(call.patient.id)
    patient_ws = await connect(call, call.patient)
    await join(patient_ws, "admitted")  # a rejoin skips the waiting room
    again = Client(BLUE)
    clients.append(again)
    await again.offer(patient_ws)
    # then: the doctor's forwarder switched to the new source without renegotiating
    await asyncio.gather(doctor.sees(BLUE), again.sees(GREEN))
    await disconnect(doctor_ws, patient_ws)


async def test_twenty_join_leave_cycles_leave_no_peer_connections_or_tracks(
    clients: list[Client],
) -> None:
    # given: the doctor in the call with media, the patient admitted once
    call = await amake_call()
    baseline_tasks = len(asyncio.all_tasks())
    doctor_ws, patient_ws = await admitted_pair(call)
    doctor = Client(GREEN)
    clients.append(doctor)
    await doctor.offer(doctor_ws)
    await patient_ws.disconnect()
    # when: the patient joins with media and leaves twenty times
    for cycle in range(20):
        patient_ws = await connect(call, call.patient)
        await join(patient_ws, "admitted")
        patient = Client(RED)
        await patient.offer(patient_ws)
        await patient.connected()
        if cycle % 5 == 0:  # media really flows, now and then (decoding is slow here)
            await doctor.sees(RED)
        if cycle % 2:
            await patient_ws.send_json_to({"type": "leave"})
            await expect(doctor_ws, "participant.left")
        await patient_ws.disconnect()
        await patient.close()
        assert media.counts()[:3] == (1, 1, 1)  # the doctor's connection and video forwarder
    # then: once the doctor leaves too, nothing is left in the registry or the heap
    await doctor_ws.send_json_to({"type": "leave"})
    await doctor.close()
    await wait_until(lambda: media.counts() == (0, 0, 0, 0), 5, "the room to close")
    await disconnect(doctor_ws)
    clients.clear()
    del doctor, patient  # the test's own client peers, closed above
    for _ in range(50):
        if not _live_peer_connections() and len(asyncio.all_tasks()) <= baseline_tasks:
            break
        await asyncio.sleep(0.1)
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert _live_peer_connections() == 0
    assert len(asyncio.all_tasks()) <= baseline_tasks, leftover
    left = await in_thread(lambda: ConsultParticipant.objects.get(user=call.patient).state)()
    assert left == ConsultParticipant.State.LEFT


# ------------------------------------------------------------------ the handshake


async def test_a_stranger_is_refused_with_4404_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    call = await amake_call()
    stranger = await in_thread(make_patient)()
    communicator = WebsocketCommunicator(consult_app(stranger), call.path)
    with caplog.at_level(logging.WARNING):
        await communicator.connect()
        assert await _closed_with(communicator) == 4404
    assert any("refused" in r.getMessage() for r in caplog.records)


async def test_the_real_entry_point_checks_origin_then_session() -> None:
    call = await amake_call()
    host = (b"host", b"127.0.0.1:8000")
    foreign = WebsocketCommunicator(
        application, call.path, headers=[(b"origin", b"https://evil.example"), host]
    )
    assert (await foreign.connect())[0] is False
    await foreign.disconnect()
    same_site = WebsocketCommunicator(
        application, call.path, headers=[(b"origin", b"http://127.0.0.1:8000"), host]
    )
    await same_site.connect()
    assert await _closed_with(same_site) == 4401  # reached the consumer: no session


async def test_an_unknown_consult_is_refused_with_4404() -> None:
    call = await amake_call()
    communicator = WebsocketCommunicator(consult_app(call.doctor), f"/ws/consult/{uuid.uuid4()}/")
    await communicator.connect()
    assert await _closed_with(communicator) == 4404


async def test_an_anonymous_socket_is_closed_with_4401() -> None:
    call = await amake_call()
    communicator = WebsocketCommunicator(consult_app(None), call.path)
    await communicator.connect()
    assert await _closed_with(communicator) == 4401


async def test_the_patient_outside_the_window_is_refused_with_4403_and_told_when(
    settings: Any,
) -> None:
    settings.CONSULT_OPEN_MINUTES_BEFORE = 10
    call = await amake_call(days_ahead=1)
    communicator = WebsocketCommunicator(consult_app(call.patient), call.path)
    await communicator.connect()
    error = await communicator.receive_json_from()
    assert error["code"] == "consult_closed"
    assert "opens at" in error["message"]
    assert await _closed_with(communicator) == 4403


@pytest.mark.parametrize(
    ("scopes", "allowed"), [(["records"], False), (["message"], True), (["book"], True)]
)
async def test_a_family_member_needs_the_book_or_message_scope(
    scopes: list[str], allowed: bool
) -> None:
    call = await amake_call()
    family: User = await in_thread(make_user)()
    await in_thread(make_grant)(call.patient, family, scopes)
    communicator = WebsocketCommunicator(consult_app(family), call.path)
    await communicator.connect()
    if not allowed:
        assert await _closed_with(communicator) == 4404
        return
    assert (await join(communicator, "waiting"))["type"] == "waiting"
    await disconnect(communicator)


# ------------------------------------------------------------------ refusals in the call


async def test_a_waiting_patient_cannot_offer(clients: list[Client]) -> None:
    call = await amake_call()
    patient_ws = await connect(call, call.patient)
    await join(patient_ws, "waiting")
    patient = Client(RED)
    clients.append(patient)
    await patient.pc.setLocalDescription(await patient.pc.createOffer())
    await patient_ws.send_json_to({"type": "offer", "sdp": patient.pc.localDescription.sdp})
    assert (await expect(patient_ws, "error"))["code"] == "not_admitted"
    await patient_ws.send_json_to({"type": "ice", "candidate": None})
    assert (await expect(patient_ws, "error"))["code"] == "not_admitted"
    assert media.counts() == (0, 0, 0, 0)
    await disconnect(patient_ws)


async def test_oversized_frames_and_sdp_are_refused(settings: Any) -> None:
    call = await amake_call()
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    await doctor_ws.send_json_to({"type": "offer", "sdp": "v=0\r\n" + "a" * 40_000})
    assert (await expect(doctor_ws, "error"))["code"] == "too_large"  # the frame itself
    await doctor_ws.send_json_to({"type": "offer", "sdp": "v=0\r\n" + "a" * 30_000})
    error = await expect(doctor_ws, "error")
    assert error["code"] == "too_large"
    assert "SDP" in error["message"]
    await doctor_ws.send_json_to({"type": "ice", "candidate": {"candidate": "c" * 2000}})
    assert (await expect(doctor_ws, "error"))["code"] == "too_large"
    await doctor_ws.send_json_to({"type": "offer", "sdp": "not an sdp"})
    assert (await expect(doctor_ws, "error"))["code"] == "bad_sdp"
    assert media.counts() == (0, 0, 0, 0)
    await disconnect(doctor_ws)


async def test_a_flood_of_frames_is_rate_limited_then_closed(settings: Any) -> None:
    settings.CONSULT_RATE_PER_SECOND, settings.CONSULT_RATE_BURST = 0.1, 3  # no refill here
    call = await amake_call()
    doctor_ws = await connect(call, call.doctor)
    for _ in range(3):
        await doctor_ws.send_json_to({"type": "nonsense"})
        assert (await expect(doctor_ws, "error"))["code"] == "unknown_type"
    await doctor_ws.send_json_to({"type": "join"})
    assert (await expect(doctor_ws, "error"))["code"] == "rate_limited"
    for _ in range(20):
        await doctor_ws.send_json_to({"type": "join"})
    assert await _closed_with(doctor_ws) == 4429


async def test_only_the_doctor_admits_and_ends() -> None:
    call = await amake_call()
    patient_ws = await connect(call, call.patient)
    await join(patient_ws, "waiting")
    await patient_ws.send_json_to({"type": "admit", "user": str(call.patient.id)})
    assert (await expect(patient_ws, "error"))["code"] == "forbidden"
    await patient_ws.send_json_to({"type": "end"})
    assert (await expect(patient_ws, "error"))["code"] == "forbidden"
    status = await in_thread(lambda: Consult.objects.get(pk=call.appointment.id).status)()
    assert status == Consult.Status.OPEN
    await disconnect(patient_ws)


async def test_the_doctor_sees_who_is_waiting_when_joining_late() -> None:
    call = await amake_call()
    patient_ws = await connect(call, call.patient)
    await join(patient_ws, "waiting")
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    waiting = await expect(doctor_ws, "participant.waiting")
    assert waiting["user"] == str(call.patient.id)
    assert waiting["name"]
    await disconnect(patient_ws, doctor_ws)


async def test_no_capacity_is_a_clear_answer(settings: Any, clients: list[Client]) -> None:
    settings.CONSULT_MAX_ROOMS = 0
    call = await amake_call()
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    doctor = Client(GREEN)
    clients.append(doctor)
    await doctor.pc.setLocalDescription(await doctor.pc.createOffer())
    await doctor_ws.send_json_to({"type": "offer", "sdp": doctor.pc.localDescription.sdp})
    assert (await expect(doctor_ws, "error"))["code"] == "no_capacity"
    await disconnect(doctor_ws)


# ------------------------------------------------------------------ quality


async def test_a_poor_link_is_stored_and_offered_audio_only(
    monkeypatch: pytest.MonkeyPatch, settings: Any, clients: list[Client]
) -> None:
    # given: a call whose patient's link measures 20% loss
    settings.CONSULT_QUALITY_INTERVAL_SECONDS = 0
    samples = [
        media.LinkQuality(bitrate_kbps=80.0, packet_loss=0.2, rtt_ms=90.0, fps=8.0),
        media.LinkQuality(bitrate_kbps=400.0, packet_loss=0.0, rtt_ms=40.0, fps=30.0),
    ]

    async def sample(room: media.Room) -> dict[str, media.LinkQuality]:
        return dict.fromkeys(room.participants, samples[0]) if samples else {}

    monkeypatch.setattr(media.Room, "sample_quality", sample)
    call = await amake_call()
    doctor_ws, patient_ws = await admitted_pair(call)
    patient = Client(RED)
    clients.append(patient)
    await patient.offer(patient_ws)
    # then: the patient is told, the sample is stored
    poor = await expect(patient_ws, "quality")
    assert poor["level"] == "poor"
    assert poor["audio_only"] is True
    assert poor["packet_loss"] == 0.2
    # when: the link recovers, then: told once
    samples.pop(0)
    assert (await expect(patient_ws, "quality"))["level"] == "ok"
    stored = await in_thread(
        lambda: list(
            QualitySample.objects.filter(user=call.patient).values_list("packet_loss", flat=True)
        )
    )()
    assert 0.2 in stored
    await disconnect(doctor_ws, patient_ws)


async def test_a_client_answer_frame_is_refused() -> None:
    call: Call = await amake_call()
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    await doctor_ws.send_json_to({"type": "answer", "sdp": "v=0"})
    assert (await expect(doctor_ws, "error"))["code"] == "bad_frame"
    await disconnect(doctor_ws)


async def test_ending_over_rest_tells_everyone_on_the_call(clients: list[Client]) -> None:
    # given: both in the call
    call = await amake_call()
    patient_ws, doctor_ws = await admitted_pair(call)

    # when: the doctor ends it from the page's REST call, not the socket
    def end_over_rest() -> int:
        from django.test import Client as HttpClient

        http = HttpClient()
        http.force_login(call.doctor)
        return int(http.post(f"/api/consults/{call.appointment.id}/end/").status_code)

    assert await in_thread(end_over_rest)() == 200
    # then
    assert (await expect(patient_ws, "ended"))["type"] == "ended"
    assert (await expect(doctor_ws, "ended"))["type"] == "ended"
    assert media.get_room(call.appointment.id) is None
    await disconnect(patient_ws, doctor_ws)
