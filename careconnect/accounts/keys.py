"""Each person's data key (DESIGN §5): created on first use, one per person."""

from __future__ import annotations

from django.db import transaction

from careconnect.accounts.models import User
from careconnect.crypto.models import DataKey
from careconnect.crypto.services import create_data_key


def ensure_data_key(user: User) -> DataKey:
    """The person's data key, created on first use under a row lock (one key per person)."""
    if user.data_key_id is not None and user.data_key is not None:
        return user.data_key
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        data_key = locked.data_key
        if data_key is None:
            data_key = create_data_key(purpose=DataKey.Purpose.PATIENT)
            locked.data_key = data_key
            locked.save(update_fields=["data_key"])
        user.data_key = data_key
    return data_key
