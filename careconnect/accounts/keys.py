"""Each person's data key (DESIGN §5): created on first use, one per person."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from careconnect.accounts.models import User
from careconnect.crypto.models import DataKey
from careconnect.crypto.services import create_data_key


def ensure_data_key(user: User) -> UUID:
    """The id of the person's data key, created on first use under a row lock."""
    if user.data_key_id is not None:
        return user.data_key_id
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.data_key_id is None:
            locked.data_key = create_data_key(purpose=DataKey.Purpose.PATIENT)
            locked.save(update_fields=["data_key"])
        key_id = locked.data_key_id
    if key_id is None:  # pragma: no cover - set just above under the lock
        raise RuntimeError("data key was not created")
    user.data_key_id = key_id
    return key_id
