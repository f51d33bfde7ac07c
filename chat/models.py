"""Conversations, participants and messages (DESIGN §3-4).

A conversation is between one patient and either one doctor or a center's care team. Its
messages are numbered by a gap-free per-conversation `seq` taken under the conversation's
row lock; the sender's `client_id` makes a retried send idempotent. Bodies are sealed with the
conversation's data key, bound to their row by the associated data."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from careconnect.accounts.models import DoctorProfile, MedicalCenter, User
from careconnect.crypto.models import DataKey


class ParticipantRole(models.TextChoices):
    PATIENT = "patient", "Patient"
    PROXY = "proxy", "Family member"
    DOCTOR = "doctor", "Doctor"
    NURSE = "nurse", "Nurse"
    STAFF = "staff", "Center staff"


class CardState(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DOCTOR = "doctor", "With a doctor"
        CARE_TEAM = "care_team", "With a center's care team"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DOCTOR)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="conversations")
    doctor = models.ForeignKey(
        DoctorProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    center = models.ForeignKey(
        MedicalCenter, on_delete=models.PROTECT, related_name="conversations"
    )
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)
    last_change = models.PositiveBigIntegerField(
        default=0, help_text="Counts every new or changed message (the `change` sync cursor)."
    )
    last_activity_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "doctor"],
                condition=Q(kind="doctor"),
                name="conversation_one_per_patient_doctor",
            ),
            models.UniqueConstraint(
                fields=["patient", "center"],
                condition=Q(kind="care_team"),
                name="conversation_one_care_team_per_patient_center",
            ),
            models.CheckConstraint(
                condition=Q(kind="care_team") | Q(doctor__isnull=False),
                name="conversation_doctor_kind_has_doctor",
            ),
        ]
        indexes = [models.Index(fields=["-last_activity_at"], name="conversation_activity")]

    def __str__(self) -> str:
        return f"Conversation {self.id}"


class Participant(models.Model):
    """A person in a conversation with their read and delivery cursors. Proxies (family
    members with the `message` scope) join when they first act; their access is still decided
    per request by the live grant."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="chat_participations")
    role = models.CharField(max_length=10, choices=ParticipantRole.choices)
    read_seq = models.PositiveBigIntegerField(default=0)
    delivered_seq = models.PositiveBigIntegerField(default=0)
    notified_seq = models.PositiveBigIntegerField(
        default=0, help_text="The last seq an offline email covered (one email per unread run)."
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="participant_once_per_conversation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} in {self.conversation_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        ACTION = "action", "Action card"
        SYSTEM = "system", "System"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    sender = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acting_for = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body_sealed = models.BinaryField(null=True, blank=True, editable=False)
    action = models.CharField(max_length=80, blank=True)
    payload = models.JSONField(
        default=dict, blank=True, help_text="Ids and display fields; no PHI."
    )
    state = models.CharField(max_length=10, choices=CardState.choices, blank=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    change = models.PositiveBigIntegerField(
        default=0, help_text="The conversation's `last_change` when this row was last written."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_unique_client_id_per_sender",
            ),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="message_target"),
            models.Index(fields=["conversation", "change"], name="message_change"),
        ]

    def __str__(self) -> str:
        return f"Message {self.conversation_id}#{self.seq}"


class AttachmentType(models.TextChoices):
    """What uploads may be: decided by the file's first bytes, never by its name."""

    JPEG = "image/jpeg", "JPEG image"
    PNG = "image/png", "PNG image"
    WEBP = "image/webp", "WebP image"
    GIF = "image/gif", "GIF image"
    PDF = "application/pdf", "PDF document"


class Attachment(models.Model):
    """A file sent with a text message. The bytes live in a file under
    CHAT_ATTACHMENT_DIR named by the id, sealed (AES-256-GCM) with the conversation's data key
    and bound to this row; the file name is sealed too (it can say what the file is about)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    name_sealed = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=40, choices=AttachmentType.choices)
    size = models.PositiveIntegerField(help_text="Plaintext bytes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Attachment {self.id}"


class ChatSettings(models.Model):
    """A person's chat preferences (absent row = the defaults)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="chat_settings"
    )
    show_presence = models.BooleanField(
        default=True, help_text="Others see when this person is online and when last seen."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Chat settings of {self.user_id}"


class CenterChatSettings(models.Model):
    """What a center's care team promises in chat, shown on its conversations."""

    center = models.OneToOneField(
        MedicalCenter, on_delete=models.CASCADE, primary_key=True, related_name="chat_settings"
    )
    expected_reply = models.CharField(
        max_length=120, blank=True, help_text='Shown in conversations: "Replies within 1 day".'
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Chat settings of center {self.center_id}"
