"""Trading capabilities (SPEC section 6), pure: what a partner may do, from its verified documents.

The shape every app reads is `{"buy": bool, "sell": bool, "import": bool, "export": bool}`:
- an Indian business entity with a verified GST certificate and PAN card may buy and sell in
  India; with an IEC as well it may also import and export;
- a foreign entity never buys or sells inside India; with its foreign tax id and an import or
  export licence it may trade cross-border (import and export). Trading in its home country is
  outside this platform, so it carries no capability here;
- a service provider (broker, transporter, ...) never posts to buy or sell: nothing.

KYC is not folded in: the derived set stays what the documents say, and `trading_refusal` (below)
is the one gate that also asks for an ACTIVE partner with valid KYC, so an expired KYC blocks
trading even under a staff override, and renewal restores it without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from apps.partners.models import BusinessType, DocumentType, EntityClass, KycStatus, PartnerStatus

CAPABILITY_KEYS = ("buy", "sell", "import", "export")
Capabilities = dict[str, bool]


def no_capabilities() -> Capabilities:
    return dict.fromkeys(CAPABILITY_KEYS, False)


def normalized(capabilities: Mapping[str, Any] | None) -> Capabilities:
    """The four keys with booleans (a missing key, or the `{}` of a fresh row, is False)."""
    source = capabilities or {}
    return {key: bool(source.get(key, False)) for key in CAPABILITY_KEYS}


def derive_capabilities(
    *, entity_class: str, business_type: str, verified_document_types: Iterable[str]
) -> Capabilities:
    """The capabilities the verified (and unexpired) documents grant."""
    verified = set(verified_document_types)
    capabilities = no_capabilities()
    if entity_class == EntityClass.SERVICE_PROVIDER:
        return capabilities
    if business_type == BusinessType.FOREIGN_ENTITY:
        if {DocumentType.FOREIGN_TAX_ID, DocumentType.TRADE_LICENCE} <= verified:
            capabilities["import"] = capabilities["export"] = True
        return capabilities
    if {DocumentType.GST_CERTIFICATE, DocumentType.PAN_CARD} <= verified:
        capabilities["buy"] = capabilities["sell"] = True
        if DocumentType.IEC in verified:
            capabilities["import"] = capabilities["export"] = True
    return capabilities


def effective_capabilities(derived: Mapping[str, Any], override: Mapping[str, Any] | None) -> Capabilities:
    """A staff override, when set, wins over the derived set."""
    return normalized(override if override is not None else derived)


def trading_refusal(partner: Any, capability: str, *, today: date) -> str | None:
    """Why `partner` may not use `capability` now (a stable code), or None when it may.

    For the trade desk and negotiation: the partner must be ACTIVE, its KYC VERIFIED and not past
    its expiry date, and the effective capability granted. Existing trades are not this check's
    business (they continue after KYC expiry)."""
    if capability not in CAPABILITY_KEYS:
        raise ValueError(f"not a trading capability: {capability!r}")
    if partner.status != PartnerStatus.ACTIVE:
        return "partner_not_active"
    if partner.kyc_status != KycStatus.VERIFIED or partner.kyc_expires_on is None or partner.kyc_expires_on < today:
        return "kyc_not_valid"
    if not normalized(partner.trading_capabilities)[capability]:
        return "capability_missing"
    return None
