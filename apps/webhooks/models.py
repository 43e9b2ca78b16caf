"""Webhook endpoints, one delivery per (event, endpoint), and every attempt of a delivery.

Owners are plain ids (ARCHITECTURE section 3): the event backbone imports no domain app, so an
endpoint stores its organization and, for a partner's endpoint, its partner as UUIDs.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel


class WebhookEndpoint(BaseModel):
    """A URL that receives the events of an organization (or of one of its partners).

    The secret signs every delivery (Standard Webhooks); it is shown once, when created or
    rotated. After a rotation the previous secret keeps signing until `previous_secret_expires_at`.
    """

    organization_id = models.UUIDField()
    partner_id = models.UUIDField(null=True, blank=True, help_text="Set for a partner's endpoint.")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    event_types = ArrayField(models.CharField(max_length=100), help_text="Patterns: exact types, `tradedesk.*` or `*`.")
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_by_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(event_types=[]), name="webhook_endpoint_has_event_types"),
            models.CheckConstraint(
                condition=Q(previous_secret="", previous_secret_expires_at__isnull=True)
                | (~Q(previous_secret="") & Q(previous_secret_expires_at__isnull=False)),
                name="webhook_endpoint_previous_secret_has_expiry",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization_id", "partner_id"],
                name="webhook_endpoint_owner_idx",
                condition=Q(is_active=True),
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def owner_label(self) -> str:
        if self.partner_id:
            return f"partner {self.partner_id} (organization {self.organization_id})"
        return f"organization {self.organization_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    FAILED = "FAILED", "Failed, will retry"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    DEAD = "DEAD", "Dead (retries exhausted)"
    CANCELLED = "CANCELLED", "Cancelled (endpoint disabled)"


RETRYABLE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
REPLAYABLE_STATUSES = (DeliveryStatus.DEAD, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)


class WebhookDelivery(BaseModel):
    """One event for one endpoint. The body is the event envelope as sent, so a delivery never
    depends on the outbox row again.

    A worker owns an attempt while `claimed_until` is in the future and `claim_token` is its
    token; `enqueued_until` says a task is believed queued, so the beat sweeper leaves it alone.
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    body = models.TextField(help_text="The event envelope JSON, exactly as sent.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0, help_text="Attempts since created or replayed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    enqueued_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event_id", "endpoint"], name="webhook_delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=~Q(status__in=["PENDING", "FAILED"]) | Q(next_attempt_at__isnull=False),
                name="webhook_delivery_retryable_has_next_attempt",
            ),
        ]
        indexes = [
            # The sweeper: due deliveries in time order.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status__in=["PENDING", "FAILED"]),
            ),
            # An endpoint's deliveries, newest first (the API list).
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_endpoint_idx"),
        ]
        permissions = [("replay_webhookdelivery", "Can replay failed, dead or cancelled webhook deliveries")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery: what came back, how long it took, or why it failed."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempt_number = models.PositiveSmallIntegerField(help_text="1 for the first attempt after creation or replay.")
    attempted_at = models.DateTimeField()
    url = models.URLField(max_length=2000)
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first kilobyte of the answer.")
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "attempted_at"], name="webhook_attempt_delivery_idx")]

    def __str__(self) -> str:
        return f"attempt {self.attempt_number} of {self.delivery_id}: {self.status_code or self.error[:40]}"
