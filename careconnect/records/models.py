from __future__ import annotations

from django.conf import settings
from django.db import models


class HealthRecord(models.Model):
    """A patient's health summary (allergies, conditions, current medications), sealed with
    the patient's data key. Reads and writes go through records.services and are audited."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="health_record",
    )
    sealed = models.BinaryField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("view_health_data", "Can see decrypted health data in the admin")]

    def __str__(self) -> str:
        return f"Health record of {self.patient_id}"
