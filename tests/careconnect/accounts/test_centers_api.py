"""Center admins edit their center and invite staff; doctors edit their public profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careconnect.accounts.models import DoctorProfile, RoleAssignment, StaffInvitation
from tests.conftest import signed_in
from tests.factories import make_center, make_staff
from tests.utils import last_email_to, link_in, query_param

pytestmark = pytest.mark.django_db


def test_center_admin_edits_center(api: Any, center_admin: Any) -> None:
    center_id = signed_in(api, center_admin).get("/api/auth/me/").json()["center"]
    assert center_id
    response = api.patch(
        f"/api/centers/{center_id}/",
        {
            "name": "Alameda Health",
            "city": "Braga",
            "latitude": "41.545400",
            "longitude": "-8.426500",
            "phone": "+351 253 000 000",
            "timezone": "Europe/Lisbon",
        },
    )
    assert response.status_code == 200, response.content
    assert api.get(f"/api/centers/{center_id}/").json()["name"] == "Alameda Health"
    assert any(c["city"] == "Braga" for c in api.get("/api/centers/").json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": "91"}, "latitude"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "<script>x</script>"}, "name"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_center_bad_input(api: Any, center_admin: Any, body: dict[str, Any], field: str) -> None:
    center_id = signed_in(api, center_admin).get("/api/auth/me/").json()["center"]
    response = api.patch(f"/api/centers/{center_id}/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_only_that_centers_admin_edits_it(api: Any, center_admin: Any, doctor: Any) -> None:
    other_center = make_center()
    signed_in(api, center_admin)
    response = api.patch(f"/api/centers/{other_center.id}/", {"name": "Taken over"})
    assert response.status_code == 403
    assert api.get(f"/api/centers/{other_center.id}/invitations/").status_code == 403
    own = RoleAssignment.objects.get(user=doctor).center_id
    doctor_api = signed_in(api.__class__(api._capture), doctor)
    assert doctor_api.patch(f"/api/centers/{own}/", {"name": "Mine"}).status_code == 403


def test_invite_doctor_who_creates_account(api: Any, make_api: Any, center_admin: Any) -> None:
    center_id = signed_in(api, center_admin).get("/api/auth/me/").json()["center"]
    invited = api.post(
        f"/api/centers/{center_id}/invitations/", {"email": "dr.new@example.test", "role": "doctor"}
    )
    assert invited.status_code == 201
    token = query_param(link_in(last_email_to("dr.new@example.test")), "token")
    newcomer = make_api()
    created = newcomer.post(
        "/api/staff-invitations/accept/",
        {
            "token": token,
            "first_name": "Sofia",
            "last_name": "Neves",
            "password": "a-long-pass-phrase",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["roles"] == ["doctor"]
    assert newcomer.login("dr.new@example.test", "a-long-pass-phrase").status_code == 200
    assert newcomer.get("/api/doctor-profile/").status_code == 200
    staff = api.get(f"/api/centers/{center_id}/staff/").json()
    assert {s["email"] for s in staff} >= {"dr.new@example.test"}
    reused = make_api().post(
        "/api/staff-invitations/accept/",
        {"token": token, "first_name": "Eve", "last_name": "Evil", "password": "a-long-pass-2"},
    )
    assert reused.status_code == 400
    assert reused.json()["error"]["code"] == "invalid_token"


def test_invite_existing_account_is_conflict(api: Any, center_admin: Any, patient: Any) -> None:
    center_id = signed_in(api, center_admin).get("/api/auth/me/").json()["center"]
    response = api.post(
        f"/api/centers/{center_id}/invitations/", {"email": patient.email, "role": "nurse"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_exists"
    assert not StaffInvitation.objects.exists()
    bad_role = api.post(
        f"/api/centers/{center_id}/invitations/",
        {"email": "x@example.test", "role": "center_admin"},
    )
    assert bad_role.status_code == 400


def test_doctor_edits_public_profile(api: Any, doctor: Any) -> None:
    signed_in(api, doctor)
    response = api.patch(
        "/api/doctor-profile/",
        {
            "specialties": ["cardiology", "dermatology"],
            "bio": "Heart and skin.",
            "languages": ["en", "pt"],
            "fee_online": {"amount": "40.00", "currency": "EUR"},
            "fee_in_person": {"amount": "55.5", "currency": "EUR"},
            "license_number": "MD-1234",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["specialties"] == ["cardiology", "dermatology"]
    assert body["fee_online"] == {"amount": "40.00", "currency": "EUR"}
    assert body["fee_in_person"] == {"amount": "55.50", "currency": "EUR"}
    assert body["name"] == doctor.full_name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"specialties": ["astrology"]}, "specialties"),
        ({"languages": ["klingon"]}, "languages"),
        ({"fee_online": {"amount": "-1", "currency": "EUR"}}, "fee_online"),
        ({"fee_online": {"amount": "10", "currency": "euro"}}, "fee_online"),
        (
            {
                "fee_online": {"amount": "1", "currency": "EUR"},
                "fee_in_person": {"amount": "1", "currency": "USD"},
            },
            "fee_in_person",
        ),
    ],
)
def test_doctor_profile_bad_input(api: Any, doctor: Any, body: dict[str, Any], field: str) -> None:
    response = signed_in(api, doctor).patch("/api/doctor-profile/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert DoctorProfile.objects.get(user=doctor).fee_online == 30


def test_doctor_photo_checked_by_content(
    api: Any, doctor: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    signed_in(api, doctor)
    csrf = api._csrf()
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>", content_type="image/png")
    refused = api.client.post("/api/doctor-profile/photo/", {"photo": fake}, HTTP_X_CSRFTOKEN=csrf)
    assert refused.status_code == 400
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ok = api.client.post(
        "/api/doctor-profile/photo/",
        {"photo": SimpleUploadedFile("me.png", png, content_type="image/png")},
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert ok.status_code == 200, ok.content
    url = ok.json()["photo_url"]
    assert url.startswith("/media/doctors/")
    assert (tmp_path / url.removeprefix("/media/")).read_bytes() == png


def test_non_doctor_has_no_doctor_profile(api: Any, patient: Any) -> None:
    assert signed_in(api, patient).get("/api/doctor-profile/").status_code == 404


def test_clinician_caring_for_patient_reads_profile(api: Any, patient: Any) -> None:
    from careconnect.accounts.models import CareRelationship

    nurse = make_staff(role="nurse")
    signed_in(api, nurse)
    assert api.get(f"/api/patients/{patient.id}/profile/").status_code == 404
    CareRelationship.objects.create(patient=patient, clinician=nurse)
    assert api.get(f"/api/patients/{patient.id}/profile/").status_code == 200
    assert (
        api.patch(f"/api/patients/{patient.id}/profile/", {"phone": "+1 555 9999"}).status_code
        == 403
    )


def test_specialties_and_languages_lists(api: Any) -> None:
    assert {"slug": "cardiology", "name": "Cardiology"} in api.get("/api/specialties/").json()
    assert {"code": "pt", "name": "Portuguese"} in api.get("/api/languages/").json()
