from __future__ import annotations

from apps.core.seeding import SeedReport
from apps.organizations.models import Organization
from apps.organizations.services import organization_create, organization_update

DEMO_ORGANIZATIONS = [
    {
        "code": "SCH",
        "name": "Saurashtra Cotton House",
        "legal_name": "Saurashtra Cotton House Private Limited",
        "pan": "AABCS1234C",
    },
    {"code": "DFT", "name": "Deccan Fibre Traders", "legal_name": "Deccan Fibre Traders LLP", "pan": "AAJFD5678K"},
]


def seed_organizations(report: SeedReport) -> None:
    organizations = []
    for spec in DEMO_ORGANIZATIONS:
        existing = Organization.objects.filter(code=spec["code"]).first()
        if existing is None:
            organization = organization_create(**spec)
        else:
            organization = organization_update(
                organization_id=existing.id, **{k: v for k, v in spec.items() if k != "code"}
            )
        organizations.append(organization)
    report.context["organizations"] = organizations
    report.lines.append("organizations: " + ", ".join(f"{o.name} (code {o.code})" for o in organizations))
