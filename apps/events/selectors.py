"""The events feed: what a caller may see, in order, only once every earlier position is final."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.events.models import OutboxEvent

# Positions come from a sequence at insert time, so a transaction that started earlier may
# still commit a lower position. The feed shows only events written by transactions older than
# the oldest one still running (every such transaction is final), and reads them in
# (txid, position) order: any event that becomes visible later has a txid at or above today's
# horizon, so it sorts after everything already shown and a reader's `after` cursor never
# skips it. Position order alone is not enough: a transaction can get its txid (first write)
# before another one but take its position after it.
_VISIBLE_HORIZON = RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])

_partner_of_user: Any = None


def register_feed_partner_resolver(resolver: Any) -> None:
    """The partners app tells the feed which partner an external user belongs to."""
    global _partner_of_user
    _partner_of_user = resolver


def events_visible_to(user: Any, *, after: int | None = None) -> QuerySet[OutboxEvent]:
    """The caller's events in feed order, (txid, position); `after` is the position of the last
    event the caller has seen."""
    user_type = getattr(user, "user_type", None)
    if user_type == "SUPER_ADMIN":
        scope = Q()
    elif user_type == "INTERNAL":
        scope = Q(organization_id=user.organization_id)
    elif user_type == "EXTERNAL":
        partner_id = _partner_of_user(user) if _partner_of_user else None
        # An external user sees its partner's events, and events about its own user record.
        scope = Q(aggregate_type="accounts.user", aggregate_id=str(user.pk), organization_id=user.organization_id)
        if partner_id:
            scope |= Q(partner_id=partner_id, organization_id=user.organization_id)
            # ... and those naming it among their parties (both sides of a trade).
            scope |= Q(parties__contains=[partner_id], organization_id=user.organization_id)
    else:
        return OutboxEvent.objects.none()
    qs = OutboxEvent.objects.filter(scope, txid__lt=_VISIBLE_HORIZON)
    if after is not None:
        anchor_txid = OutboxEvent.objects.filter(position=after).values_list("txid", flat=True).first()
        if anchor_txid is None:  # not an event's position (a hand-made cursor): plain position order
            qs = qs.filter(position__gt=after)
        else:
            qs = qs.filter(Q(txid__gt=anchor_txid) | Q(txid=anchor_txid, position__gt=after))
    return qs.order_by("txid", "position")
