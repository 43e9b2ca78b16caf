"""The shared model base (UUID primary keys and timestamps) and the Idempotency-Key records."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, cast

from django.db import models
from django.db.models import DEFERRED


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # (the field names it was made for, whether each concrete field is loaded): see from_db.
    _deferred_row_plan: ClassVar[tuple[Any, tuple[bool, ...]]]

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        """Django's `Model.from_db`, but a row of a query that loads some fields (`only()`,
        `defer()`) is laid out from a plan made once per query, not by asking `attname in
        field_names` (a list) for every concrete field of every row: 12-19 us a row for a
        40-field posting, a 100-row admin page 1-1.5 ms (issue 15). Django builds `field_names`
        once per query and passes that same list for each of its rows, so the plan is kept with
        the list it was made for and made again for any other."""
        fields = cls._meta.concrete_fields
        if len(values) == len(fields):
            return super().from_db(db, field_names, values)
        plan = cls.__dict__.get("_deferred_row_plan")
        if plan is None or plan[0] is not field_names:
            plan = (field_names, tuple(field.attname in field_names for field in fields))
            cls._deferred_row_plan = plan  # one tuple assigned whole: a reader sees one plan or the other
        values_iter = iter(values)
        row: list[Any] = [next(values_iter) if loaded else DEFERRED for loaded in plan[1]]
        new = cast(Any, cls)(*row)  # positional values of every concrete field, as Django passes them
        new._state.adding = False
        new._state.db = db
        return new


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
