"""The risk officer's desk in the admin, one module per screen (imported here so the admin
registers them): the dashboard and credit rows (`credit`), limit changes with Approve / Reject
(`limits`), the exposure ledger, assessments and alerts (`ledger`)."""

from apps.risk.admin import credit, ledger, limits

__all__ = ["credit", "ledger", "limits"]
