"""Roles are Django groups; capabilities are Django permissions (ARCHITECTURE section 7).

The table below is the source of truth. A data migration creates the groups; after every
migrate `sync_roles` attaches the permissions that exist by then, so roles pick up the
capabilities of apps added later without a hand edit. Permissions a role lists but that no
installed app defines yet are skipped (and attached once that app migrates).
"""

from __future__ import annotations

from typing import Any


class Role:
    PLATFORM_ADMIN = "platform_admin"
    ORGANIZATION_ADMIN = "organization_admin"
    KYC_OFFICER = "kyc_officer"
    DESK_MANAGER = "desk_manager"
    RISK_OFFICER = "risk_officer"
    PARTNER_OWNER = "partner_owner"
    PARTNER_TRADER = "partner_trader"
    PARTNER_VIEWER = "partner_viewer"


STAFF_ROLES = (Role.ORGANIZATION_ADMIN, Role.KYC_OFFICER, Role.DESK_MANAGER, Role.RISK_OFFICER)
PARTNER_ROLES = (Role.PARTNER_OWNER, Role.PARTNER_TRADER, Role.PARTNER_VIEWER)

_VIEW_BASICS = ["organizations.view_organization", "accounts.view_user"]
# What every back-office role may read of partners.
_VIEW_PARTNERS = [
    "partners.view_businesspartner",
    "partners.view_onboardingapplication",
    "partners.view_partnerdocument",
    "partners.view_branch",
    "partners.view_vehicle",
    "partners.view_partnermembership",
    "partners.view_partneramendment",
    "partners.view_corporategroup",
]

# What back-office roles may read of the trade desk, and what the desk itself does.
_VIEW_TRADEDESK = [
    "tradedesk.view_availability",
    "tradedesk.view_requirement",
    "tradedesk.view_reservation",
]
_RUN_THE_DESK = [
    "tradedesk.add_availability",
    "tradedesk.change_availability",
    "tradedesk.approve_availability",
    "tradedesk.add_requirement",
    "tradedesk.change_requirement",
]

# Risk: what the risk desk reads, and what it does (credit limits, maker-checker, settings).
_VIEW_RISK = [
    "risk.view_creditaccount",
    "risk.view_exposureentry",
    "risk.view_assessment",
    "risk.view_limitchange",
    "risk.view_exposurealert",
    "risk.view_risksettings",
]
_RUN_RISK = [
    *_VIEW_RISK,
    "risk.change_creditaccount",
    "risk.set_credit_limit",
    "risk.approve_credit_limit",
    "risk.change_risksettings",
]
# The desk sees its partners' exposure and the checks of their postings.
_DESK_READS_RISK = [
    "risk.view_creditaccount",
    "risk.view_exposureentry",
    "risk.view_assessment",
    "risk.view_exposurealert",
]

# Matching: every staff role reads proposals (the admin's Matches screen shows both sides); the
# desk and organization admins maintain the matching settings and the commodities' weights.
_VIEW_MATCHING = ["matching.view_matchproposal", "matching.view_matchingweights", "matching.view_matchingsettings"]
_RUN_MATCHING = [
    *_VIEW_MATCHING,
    "matching.add_matchingweights",
    "matching.change_matchingweights",
    "matching.add_matchingsettings",
    "matching.change_matchingsettings",
]
# What back-office roles may read of negotiations and trades, and what the desk does with them.
_VIEW_TRADES = ["trades.view_negotiation", "trades.view_trade", "trades.view_tradeamendment"]
_RUN_TRADES = ["trades.negotiate_for_partner", "trades.manage_trade", "trades.change_tradessettings"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PLATFORM_ADMIN: [
        *_VIEW_BASICS,
        "organizations.add_organization",
        "organizations.change_organization",
        "organizations.view_gstregistration",
        "organizations.add_gstregistration",
        "organizations.change_gstregistration",
        "organizations.view_bankaccount",
        "organizations.add_bankaccount",
        "organizations.change_bankaccount",
        "organizations.view_financialyear",
        "organizations.add_financialyear",
        "organizations.change_financialyear",
        "organizations.view_documentseries",
        "organizations.add_documentseries",
        "organizations.change_documentseries",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_smsmessage",
        "accounts.view_otpcode",
        "django_celery_beat.view_periodictask",
        "commodities.view_unit",
        "commodities.add_unit",
        "commodities.change_unit",
        "commodities.view_commodity",
        "commodities.add_commodity",
        "commodities.change_commodity",
        "commodities.view_variety",
        "commodities.add_variety",
        "commodities.change_variety",
        "commodities.view_qualityparameter",
        "commodities.add_qualityparameter",
        "commodities.change_qualityparameter",
        "commodities.view_qualityschedule",
        "commodities.add_qualityschedule",
        "commodities.change_qualityschedule",
        "commodities.view_tradeterm",
        "commodities.add_tradeterm",
        "commodities.change_tradeterm",
        "commodities.view_commissionstructure",
        "commodities.add_commissionstructure",
        "commodities.change_commissionstructure",
        "locations.view_location",
        "locations.add_location",
        "locations.change_location",
    ],
    Role.ORGANIZATION_ADMIN: [
        *_VIEW_BASICS,
        "organizations.change_organization",
        "organizations.view_gstregistration",
        "organizations.add_gstregistration",
        "organizations.change_gstregistration",
        "organizations.view_bankaccount",
        "organizations.add_bankaccount",
        "organizations.change_bankaccount",
        "organizations.view_financialyear",
        "organizations.add_financialyear",
        "organizations.change_financialyear",
        "organizations.view_documentseries",
        "organizations.add_documentseries",
        "organizations.change_documentseries",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_smsmessage",
        "webhooks.view_webhookendpoint",
        "webhooks.add_webhookendpoint",
        "webhooks.change_webhookendpoint",
        "webhooks.delete_webhookendpoint",
        "webhooks.view_webhookdelivery",
        *_VIEW_PARTNERS,
        "partners.change_businesspartner",
        "partners.change_onboardingapplication",
        "partners.change_partnerdocument",
        "partners.add_corporategroup",
        "partners.change_corporategroup",
        "partners.approve_low_risk",
        "partners.approve_medium_risk",
        "partners.approve_high_risk",
        "partners.change_partner_status",
        "partners.override_capabilities",
        "partners.decide_amendment",
        "partners.renew_kyc",
        "partners.manage_employees",
        *_VIEW_TRADEDESK,
        *_RUN_THE_DESK,
        *_RUN_RISK,
        *_RUN_MATCHING,
        *_VIEW_TRADES,
        *_RUN_TRADES,
    ],
    Role.KYC_OFFICER: [
        *_VIEW_BASICS,
        *_VIEW_PARTNERS,
        "partners.change_onboardingapplication",
        "partners.change_partnerdocument",
        "partners.renew_kyc",
        "accounts.view_smsmessage",
        "organizations.view_gstregistration",
        "organizations.view_bankaccount",
        "organizations.view_financialyear",
        "organizations.view_documentseries",
        "matching.view_matchproposal",
    ],
    Role.DESK_MANAGER: [
        *_VIEW_BASICS,
        "organizations.view_gstregistration",
        "organizations.view_bankaccount",
        "organizations.view_financialyear",
        "organizations.view_documentseries",
        *_VIEW_PARTNERS,
        "partners.change_businesspartner",
        "partners.approve_low_risk",
        "partners.decide_amendment",
        *_VIEW_TRADEDESK,
        *_RUN_THE_DESK,
        *_DESK_READS_RISK,
        *_RUN_MATCHING,
        *_VIEW_TRADES,
        *_RUN_TRADES,
    ],
    Role.RISK_OFFICER: [
        *_VIEW_BASICS,
        *_VIEW_PARTNERS,
        "partners.change_partner_status",
        "partners.override_capabilities",
        "organizations.view_gstregistration",
        "organizations.view_bankaccount",
        "organizations.view_financialyear",
        "organizations.view_documentseries",
        *_VIEW_TRADEDESK,
        *_RUN_RISK,
        *_VIEW_MATCHING,
        *_VIEW_TRADES,
    ],
    Role.PARTNER_OWNER: ["organizations.view_organization"],
    Role.PARTNER_TRADER: ["organizations.view_organization"],
    Role.PARTNER_VIEWER: ["organizations.view_organization"],
}


def sync_roles(group_model: Any = None, permission_model: Any = None) -> dict[str, int]:
    """Create every role's group and attach its existing permissions. Idempotent."""
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    attached: dict[str, int] = {}
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = set()
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            perm = permission_model.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.add(perm.pk)
        group.permissions.add(*wanted)
        attached[role] = len(wanted)
    return attached


def sync_roles_after_migrate(**kwargs: Any) -> None:
    sync_roles()
