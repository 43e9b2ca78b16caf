"""Party links between two partners (SPEC section 11), as pure functions of two partner rows.

- FAIL: same PAN, same GSTIN, or insiders (`apps.partners.insiders`: the same partner, master
  and branch, a shared master or corporate group).
- WARN: the same contact mobile, the same bank account (number and IFSC), or the same company
  e-mail domain (free-mail domains, kept as data in `FreeMailDomain`, link nobody).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.partners import insiders
from apps.risk.models import CheckResult
from apps.risk.rules import worse

# The partner fields a party check reads (selectors load exactly these).
PARTY_FIELDS = (
    "id",
    "organization_id",
    "pan",
    "gstin",
    "master_partner_id",
    "corporate_group_id",
    "contact_phone",
    "contact_email",
    "bank_account_number",
    "bank_ifsc",
)

_INSIDER_DETAIL = {
    insiders.SAME_PARTNER: "It is the same partner.",
    insiders.MASTER_AND_BRANCH: "One partner is the master of the other (insiders).",
    insiders.SAME_MASTER: "Both partners share a master partner (insiders).",
    insiders.SAME_CORPORATE_GROUP: "Both partners belong to the same corporate group (insiders).",
}


@dataclass(frozen=True)
class PartyCheck:
    """PASS / WARN / FAIL and the links found, each `{"code", "detail", "result"}`."""

    result: str
    factors: list[dict[str, str]] = field(default_factory=list)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().lower() if "@" in email else ""


class _Party:
    """The fields of a partner `insiders.insider_relationship` reads, from a `.values()` row."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.pk = row["id"]
        self.organization_id = row["organization_id"]
        self.master_partner_id = row["master_partner_id"]
        self.corporate_group_id = row["corporate_group_id"]
        self.pan = row["pan"]
        self.gstin = row["gstin"]
        self.phone = row["contact_phone"]
        self.email_domain = email_domain(row["contact_email"] or "")
        self.bank = (row["bank_account_number"], row["bank_ifsc"]) if row["bank_account_number"] else None


def party(row: dict[str, Any]) -> _Party:
    return _Party(row)


def check_parties(a: _Party, b: _Party, *, free_mail: set[str]) -> PartyCheck:
    factors: list[dict[str, str]] = []

    def add(code: str, detail: str, result: str) -> None:
        factors.append({"code": code, "detail": detail, "result": result})

    if a.pan and a.pan == b.pan:
        add("same_pan", "Both partners have the same PAN.", CheckResult.FAIL)
    if a.gstin and a.gstin == b.gstin:
        add("same_gstin", "Both partners have the same GSTIN.", CheckResult.FAIL)
    reason = insiders.insider_relationship(a, b)  # type: ignore[arg-type]
    if reason in _INSIDER_DETAIL:
        add(f"insider_{reason}", _INSIDER_DETAIL[reason], CheckResult.FAIL)
    if a.phone and a.phone == b.phone:
        add("same_mobile", "Both partners have the same contact mobile.", CheckResult.WARN)
    if a.bank is not None and a.bank == b.bank:
        add("same_bank_account", "Both partners have the same bank account.", CheckResult.WARN)
    if a.email_domain and a.email_domain == b.email_domain and a.email_domain not in free_mail:
        add(
            "same_email_domain",
            f"Both partners' contact e-mail is at the company domain {a.email_domain}.",
            CheckResult.WARN,
        )
    result: str = CheckResult.PASS
    for factor in factors:
        result = worse(result, factor["result"])
    return PartyCheck(result=result, factors=factors)
