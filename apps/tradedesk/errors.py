"""Refusals of the trade desk, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from typing import Any

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


# --- postings' input ------------------------------------------------------------------------------


class PostingInvalid(DomainError):
    """400: a posting's input breaks one rule: `code` names the rule, `errors[0].attr` the field.
    Each posting has its own subclass (RequirementInvalid, AvailabilityInvalid); the cleaning
    primitives in `tradedesk.inputs` raise whichever they are given."""

    code = "posting_invalid"
    status = 400
    default_detail = "The posting has invalid fields; see errors."

    def __init__(self, attr: str, code: str, detail: str) -> None:
        super().__init__(detail, code=code, errors=[{"attr": attr, "code": code, "detail": detail}])

    @classmethod
    def several(cls, errors: list[dict[str, Any]]) -> PostingInvalid:
        """Several fields refused at once: the posting's own code, every field in `errors`."""
        error = cls.__new__(cls)
        DomainError.__init__(error, cls.default_detail, errors=errors)
        return error


# --- requirements -------------------------------------------------------------------------------


class RequirementInvalid(PostingInvalid):
    """400: a requirement's input breaks a rule. `code` names the rule (quantity_invalid,
    quantity_range_invalid, price_invalid, preferred_above_max, window_invalid, location_invalid,
    ...); `errors[0].attr` the field."""

    code = "requirement_invalid"
    default_detail = "The requirement has invalid fields; see errors."


class RequirementFieldNotEditable(Conflict):
    """409: once published, only price, quantity, spec, delivery window and locations change."""

    code = "field_not_editable"
    default_detail = "These fields cannot change once the requirement is published."

    def __init__(self, fields: list[str], *, current: str) -> None:
        detail = f"A {current} requirement changes only its price, quantity, spec, delivery window and locations."
        super().__init__(
            detail,
            errors=[{"attr": name, "code": self.code, "detail": detail} for name in fields],
            extra={"current_state": current},
        )


class FulfilmentReversalExceeds(Conflict):
    """409: taking back more fulfilment than the requirement has."""

    code = "fulfilment_reversal_exceeds"
    default_detail = "Less than that is fulfilled on the requirement."


class FulfilmentExceedsMax(Conflict):
    """409: recording this fulfilment would take the requirement beyond its maximum quantity."""

    code = "fulfilment_exceeds_max"
    default_detail = "The fulfilment would exceed the requirement's maximum quantity."


# --- availabilities and reservations --------------------------------------------------------------


class AvailabilityInvalid(PostingInvalid):
    """400: an availability's (or a reservation's) input breaks a rule. `code` names the rule
    (quantity_invalid, price_invalid, min_order_invalid, window_invalid, window_passed,
    ship_from_required, branch_invalid, location_invalid, term_invalid, ...); `errors[0].attr`
    the field."""

    code = "availability_invalid"
    default_detail = "The availability has invalid fields; see errors."


class AvailabilityExpired(Conflict):
    """409: the availability's window has passed (the expiry job may not have run yet): it can
    no longer be approved or reserved."""

    code = "availability_expired"
    default_detail = "The availability's window has passed; it can no longer be approved or reserved."


class AvailabilityMakerChecker(Conflict):
    """409: the staff member who keyed an availability for its partner may not also approve it."""

    code = "maker_checker_violation"
    default_detail = "The person who keyed an availability cannot also approve it."
