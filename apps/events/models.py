"""The transactional outbox and the per-handler processed markers."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL


class EventStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    FAILED = "FAILED", "Failed, will retry"
    DISPATCHED = "DISPATCHED", "Dispatched"
    DEAD = "DEAD", "Dead-lettered"


class OutboxEvent(models.Model):
    """One domain event, written in the transaction of the change it describes.

    Organization, partner, actor and aggregate are plain ids: events sit below every domain app
    (ARCHITECTURE section 3) and must outlive the rows they mention.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Feed cursor: a database sequence. Values are handed out at insert, not at commit, so
    # readers only see positions below the oldest running transaction (selectors.py).
    position = models.BigIntegerField(unique=True, editable=False)
    # pg_current_xact_id() of the writing transaction, for the visibility horizon above.
    txid = models.BigIntegerField(editable=False)
    type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField()
    organization_id = models.UUIDField(null=True, blank=True)
    partner_id = models.UUIDField(null=True, blank=True)
    # Further partners the event concerns as much as the one named above: both sides of a
    # negotiation or a trade. Each sees it in its feed and its webhooks as if it were named.
    # The column's own default too: rows written in SQL (a benchmark's bulk insert) need not name it.
    parties = ArrayField(models.UUIDField(), default=list, blank=True, db_default=RawSQL("'{}'::uuid[]", []))
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    actor_id = models.UUIDField(null=True, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    payload = models.JSONField(default=dict)

    status = models.CharField(max_length=12, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The relay's claim: due, undelivered events in position order.
            models.Index(
                fields=["next_attempt_at", "position"],
                name="outbox_due_idx",
                condition=Q(status__in=["PENDING", "FAILED"]),
            ),
            # The per-aggregate order check.
            models.Index(
                fields=["aggregate_type", "aggregate_id", "position"],
                name="outbox_aggregate_open_idx",
                condition=Q(status__in=["PENDING", "FAILED"]),
            ),
            # The feed reads in (txid, position) order per audience (selectors.py).
            models.Index(fields=["organization_id", "txid", "position"], name="outbox_org_feed_idx"),
            models.Index(fields=["partner_id", "txid", "position"], name="outbox_partner_feed_idx"),
            GinIndex(fields=["parties"], name="outbox_parties_idx"),
            models.Index(fields=["txid", "position"], name="outbox_feed_idx"),
        ]
        permissions = [("replay_outboxevent", "Can replay dead-lettered events")]

    def __str__(self) -> str:
        return f"{self.type} #{self.position}"


class HandlerRunStatus(models.TextChoices):
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed, will retry"
    DEAD = "DEAD", "Dead-lettered"


class HandlerRun(models.Model):
    """What one handler did with one event. A DONE row is the processed marker: it is written in
    the handler's own transaction (savepoint), so a handler's effects and its marker commit or
    roll back together and a redelivered event is skipped."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="handler_runs")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=HandlerRunStatus.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="handler_run_once_per_event")]

    def __str__(self) -> str:
        return f"{self.handler} on {self.event_id}: {self.status}"
