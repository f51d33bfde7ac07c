"""Envelope encryption: AAD binding, key rotation without downtime, shredding."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from careconnect.accounts.access import PatientAccess
from careconnect.accounts.services import read_profile, update_profile
from careconnect.crypto.keyring import get_keyring, parse_keyring
from careconnect.crypto.models import DataKey
from careconnect.crypto.services import (
    DecryptionError,
    clear_key_cache,
    create_data_key,
    open_sealed,
    seal,
    shred_data_key,
)
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_sealed_value_is_bound_to_its_row(db: None) -> None:
    data_key = create_data_key(purpose="patient")
    sealed = seal(data_key, b"peanut allergy", aad="records.healthrecord:1")
    assert b"peanut" not in sealed
    assert open_sealed(data_key, sealed, aad="records.healthrecord:1") == b"peanut allergy"
    with pytest.raises(DecryptionError):
        open_sealed(data_key, sealed, aad="records.healthrecord:2")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        open_sealed(data_key, tampered, aad="records.healthrecord:1")


def test_two_seals_of_the_same_text_differ(db: None) -> None:
    data_key = create_data_key(purpose="patient")
    assert seal(data_key, b"x", aad="a") != seal(data_key, b"x", aad="a")


def test_rotate_keys_then_drop_old_key_keeps_everything_readable(settings: Any) -> None:
    # given: records written under the old key
    old = f"old:{_key()}"
    settings.CRYPTO_KEYS = old
    patients = [make_patient() for _ in range(3)]
    for index, patient in enumerate(patients):
        update_profile(
            actor=patient,
            access=PatientAccess(patient, False),
            data={"allergies": [{"substance": f"S{index}", "reaction": "", "severity": "mild"}]},
        )
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"old"}
    # when: a new key goes first, keys are re-wrapped, and the old key is removed
    new = f"new:{_key()}"
    settings.CRYPTO_KEYS = f"{new},{old}"
    call_command("rotate_keys")
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"new"}
    settings.CRYPTO_KEYS = new
    clear_key_cache()
    # then: every record still opens
    for index, patient in enumerate(patients):
        patient.refresh_from_db()
        profile = read_profile(actor=patient, access=PatientAccess(patient, False))
        assert profile["allergies"][0]["substance"] == f"S{index}"


def test_without_the_key_nothing_opens(settings: Any) -> None:
    settings.CRYPTO_KEYS = f"one:{_key()}"
    patient = make_patient()
    update_profile(
        actor=patient, access=PatientAccess(patient, False), data={"phone": "+1 555 0101"}
    )
    settings.CRYPTO_KEYS = f"two:{_key()}"
    clear_key_cache()
    patient.refresh_from_db()
    with pytest.raises(DecryptionError):
        read_profile(actor=patient, access=PatientAccess(patient, False))


def test_shredding_a_patients_data_key_makes_their_record_unreadable(db: None) -> None:
    patient = make_patient()
    update_profile(
        actor=patient, access=PatientAccess(patient, False), data={"phone": "+1 555 0199"}
    )
    patient.refresh_from_db()
    assert patient.data_key_id is not None
    shred_data_key(data_key_id=patient.data_key_id)
    patient.refresh_from_db()
    assert patient.data_key_id is None
    assert not DataKey.objects.exists()
    with pytest.raises(DecryptionError):
        read_profile(actor=patient, access=PatientAccess(patient, False))


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nokey",
        "k1:not-base64!!",
        f"k1:{base64.urlsafe_b64encode(b'short').decode()}",
        "k1:{0},k1:{0}".format(base64.urlsafe_b64encode(os.urandom(32)).decode()),
    ],
)
def test_bad_keyring_is_refused(spec: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_keyring(spec)


def test_active_key_is_the_first(settings: Any) -> None:
    settings.CRYPTO_KEYS = f"b:{_key()},a:{_key()}"
    assert get_keyring().active_id == "b"


def test_embedded_default_generates_a_private_keyring(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"CRYPTO_KEYS", "SECRET_KEY"}}
    env["CARECONNECT_VAR_DIR"] = str(tmp_path)
    code = "import django; django.setup(); from django.conf import settings; print(settings.CRYPTO_KEYS[:6])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "careconnect.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "local1"
    keyring = tmp_path / "keyring"
    assert keyring.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
