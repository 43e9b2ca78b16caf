"""Refusals of the trade desk, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from apps.core.errors import Conflict, DomainError, NotFound


class AvailabilityNotFound(NotFound):
    code = "availability_not_found"
    default_detail = "No such availability."


class RequirementNotFound(NotFound):
    code = "requirement_not_found"
    default_detail = "No such requirement."


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    default_detail = "No such reservation."


class InvalidTransition(Conflict):
    """A transition from the wrong state. `extra` carries `current_state` (and `allowed_states`),
    so clients see where the posting stands."""

    code = "invalid_transition"
    default_detail = "The posting is not in a state that allows this."

    def __init__(self, *, action: str, current: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"Cannot {action}: it is {current}; it must be {' or '.join(allowed)}.",
            extra={"current_state": current, "allowed_states": list(allowed)},
        )


class PostingRefused(DomainError):
    """The partner may not post now: not ACTIVE, KYC not valid, or without the buy/sell
    capability. `code` is the reason (partner_not_active, kyc_not_valid, capability_missing)."""

    status = 403
    code = "posting_refused"
    DETAILS = {
        "partner_not_active": "The partner is not active (suspended or blocked): it may not post.",
        "kyc_not_valid": "The partner's KYC is not valid (expired or pending renewal): it may not post.",
        "capability_missing": "The partner does not have the trading capability to post this.",
    }

    def __init__(self, reason: str, *, capability: str) -> None:
        super().__init__(
            self.DETAILS.get(reason, "The partner may not post."), code=reason, extra={"capability": capability}
        )


class InsufficientQuantity(Conflict):
    code = "insufficient_quantity"
    default_detail = "Not enough quantity is available."


class BelowMinimumOrder(DomainError):
    code = "below_minimum_order"
    status = 400
    default_detail = "The quantity is below the availability's minimum order."


class PartialOrderNotAllowed(DomainError):
    code = "partial_order_not_allowed"
    status = 400
    default_detail = "This availability is sold whole: the quantity must be all that is available."
