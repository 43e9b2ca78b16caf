"""The shared model base (UUID primary keys and timestamps) and the Idempotency-Key records."""

from __future__ import annotations

import uuid

from django.db import models


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    COMPLETED = "COMPLETED", "Completed"


class IdempotencyRecord(BaseModel):
    """One `Idempotency-Key` of one user (ARCHITECTURE section 11).

    Claimed IN_PROGRESS while its first request runs, then COMPLETED with the response to replay.
    `user_id` is a plain UUID: core points at no other app. `updated_at` doubles as the claim time
    of an IN_PROGRESS row, so a claim abandoned by a dead process can be taken over.
    """

    user_id = models.UUIDField()
    key = models.CharField(max_length=255)
    # sha256 (hex) of method, path, query string and body.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Only Content-Type and Location are kept and replayed.
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_unique"),
            models.CheckConstraint(
                condition=models.Q(state="IN_PROGRESS") | models.Q(status_code__isnull=False),
                name="idempotency_completed_has_status",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires_idx")]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key!r} of user {self.user_id} ({self.state})"
