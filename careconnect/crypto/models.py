from __future__ import annotations

import uuid

from django.db import models


class DataKey(models.Model):
    """A per-patient (or per-conversation) AES-256 data key, stored only wrapped by a KEK.

    Deleting a row shreds everything it protected (crypto-shredding)."""

    class Purpose(models.TextChoices):
        PATIENT = "patient"
        CONVERSATION = "conversation"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    kek_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kek_id"])]

    def __str__(self) -> str:
        return f"DataKey {self.id} ({self.purpose}, kek {self.kek_id})"
