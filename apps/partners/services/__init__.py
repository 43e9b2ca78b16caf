"""Partner use cases, one module per aggregate: `onboarding` (applications, documents, approval),
and beside it branches, employees, vehicles, amendments, status, capabilities and KYC.

The onboarding functions are re-exported here because the admin and tests call them as
`services.application_submit`; the other modules are imported by name
(`from apps.partners.services import branches`).
"""

from apps.partners.services.onboarding import (
    Approval,
    application_approve,
    application_create,
    application_reject,
    application_request_info,
    application_start_review,
    application_submit,
    application_update,
    application_withdraw,
    document_reject,
    document_upload,
    document_verify,
    lock_application,
    missing_documents,
    next_partner_code,
)

__all__ = [
    "Approval",
    "application_approve",
    "application_create",
    "application_reject",
    "application_request_info",
    "application_start_review",
    "application_submit",
    "application_update",
    "application_withdraw",
    "document_reject",
    "document_upload",
    "document_verify",
    "lock_application",
    "missing_documents",
    "next_partner_code",
]
