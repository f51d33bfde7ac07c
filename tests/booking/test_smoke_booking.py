from __future__ import annotations

from typing import Any

from booking.models import Slot
from tests.conftest import signed_in
from tests.factories import make_patient


def test_patient_books_a_free_slot(api: Any, slot: Slot) -> None:
    patient = make_patient()
    signed_in(api, patient)
    response = api.post(
        "/api/appointments/", {"slot": str(slot.id), "mode": "online", "reason": "Cough"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["reason"] == "Cough"
    assert body["consult"] == body["id"]
    again = api.post("/api/appointments/", {"slot": str(slot.id), "mode": "online"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "slot_taken"
