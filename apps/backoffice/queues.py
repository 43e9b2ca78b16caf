"""The admin home's work queues (issue 17): for one staff member, what waits for them.

Each queue is a count from the domain apps' scoped selectors (the staff member's organization;
every organization for a platform admin) and a link to the changelist filtered to exactly those
rows. A queue is listed only to a user holding the capability to act on it (or, for
the operational ones, to read it), so each role's home shows its own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User, UserType
from apps.events.models import EventStatus, OutboxEvent
from apps.partners.models import ApplicationState, DocumentStatus, PartnerDocument, PartnerStatus
from apps.partners.permissions import APPROVE_PERMISSION_BY_ROUTE, REVIEW_PERMISSION
from apps.partners.selectors import applications_visible_to_staff, partners_visible_to
from apps.risk.models import LimitChangeStatus
from apps.risk.selectors import limit_changes_visible_to
from apps.tradedesk.models import AvailabilityStatus
from apps.tradedesk.selectors import availabilities_visible_to_staff
from apps.webhooks.models import DeliveryStatus, WebhookDelivery

UNDECIDED_STATES = (ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW)
KYC_WARNING_DAYS = 30
FAILING_DELIVERY_STATES = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int
    url: str
    hint: str


def _changelist(name: str, query: str = "") -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{query}" if query else url


def _organization_scope(user: User, field: str) -> Q | None:
    if user.user_type == UserType.SUPER_ADMIN:
        return Q()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return Q(**{field: user.organization_id})
    return None


def approvable_routes(user: User) -> list[str]:
    """The approval routes whose capability `user` holds."""
    return [route for route, perm in APPROVE_PERMISSION_BY_ROUTE.items() if user.has_perm(perm)]


def kyc_expiry_horizon() -> Any:
    return timezone.localdate() + timedelta(days=KYC_WARNING_DAYS)


def work_queues(user: User) -> list[Queue]:
    """The queues `user` works, in the order of the home page."""
    if not user.is_active or user.user_type not in (UserType.INTERNAL, UserType.SUPER_ADMIN):
        return []
    queues: list[Queue] = []
    applications = applications_visible_to_staff(user).filter(state__in=UNDECIDED_STATES)
    if user.has_perm("partners.view_onboardingapplication"):
        queues.append(
            Queue(
                "applications_to_review",
                "Applications to review (assigned to me)",
                applications.filter(assigned_to_id=user.pk).count(),
                _changelist("partners_onboardingapplication", "assigned=me"),
                "Submitted or under review, assigned to you.",
            )
        )
        if user.has_perm(REVIEW_PERMISSION):
            queues.append(
                Queue(
                    "applications_unassigned",
                    "Applications nobody is assigned to",
                    applications.filter(assigned_to__isnull=True).count(),
                    _changelist("partners_onboardingapplication", "assigned=nobody"),
                    "Submitted or under review, without a KYC officer.",
                )
            )
    routes = approvable_routes(user)
    if routes:
        ready = applications.filter(route__in=routes).exclude(documents__status=DocumentStatus.PENDING)
        queues.append(
            Queue(
                "applications_to_approve",
                "Applications to approve",
                ready.count(),
                _changelist("partners_onboardingapplication", "queue=to_approve"),
                "Undecided, every document reviewed, routed to a level you may approve.",
            )
        )
    if user.has_perm("partners.view_partnerdocument"):
        pending = PartnerDocument.objects.filter(application__in=applications, status=DocumentStatus.PENDING)
        queues.append(
            Queue(
                "documents_pending",
                "Application documents pending review",
                pending.count(),
                _changelist("partners_onboardingapplication", "queue=documents_pending"),
                "Documents of undecided applications nobody has verified or rejected yet.",
            )
        )
    if user.has_perm("tradedesk.view_availability"):
        queues.append(
            Queue(
                "postings_to_approve",
                "Postings awaiting approval",
                availabilities_visible_to_staff(user).filter(status=AvailabilityStatus.PENDING_APPROVAL).count(),
                _changelist("tradedesk_availability", "status__exact=PENDING_APPROVAL"),
                "Availabilities keyed for a seller, waiting for a second person (maker-checker).",
            )
        )
    if user.has_perm("partners.view_businesspartner"):
        queues.append(
            Queue(
                "kyc_expiring",
                f"KYC expiring in {KYC_WARNING_DAYS} days",
                partners_visible_to(user)
                .filter(status=PartnerStatus.ACTIVE, kyc_expires_on__lte=kyc_expiry_horizon())
                .count(),
                _changelist("partners_businesspartner", "kyc=expiring"),
                "Active partners whose KYC lapses within 30 days (or already has).",
            )
        )
    if user.has_perm("risk.view_limitchange"):
        queues.append(
            Queue(
                "limit_requests",
                "Credit limit requests",
                limit_changes_visible_to(user).filter(status=LimitChangeStatus.PENDING).count(),
                _changelist("risk_limitchange", "status__exact=PENDING"),
                "Limit changes waiting for a second person's approval.",
            )
        )
    if user.has_perm("events.view_outboxevent"):
        scope = _organization_scope(user, "organization_id")
        queues.append(
            Queue(
                "dead_events",
                "Dead-lettered events",
                OutboxEvent.objects.filter(scope, status=EventStatus.DEAD).count() if scope is not None else 0,
                _changelist("events_outboxevent", "status__exact=DEAD"),
                "Events whose handlers gave up; replay them once the cause is fixed.",
            )
        )
    if user.has_perm("webhooks.view_webhookdelivery"):
        scope = _organization_scope(user, "endpoint__organization_id")
        queues.append(
            Queue(
                "failing_webhooks",
                "Failing webhook deliveries",
                WebhookDelivery.objects.filter(scope, status__in=FAILING_DELIVERY_STATES).count()
                if scope is not None
                else 0,
                _changelist("webhooks_webhookdelivery", "status__in=FAILED,DEAD"),
                "Deliveries that failed and are retrying, or gave up.",
            )
        )
    return queues
