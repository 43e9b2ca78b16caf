from __future__ import annotations

from apps.core.seeding import SeedReport
from apps.organizations.models import Organization

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
        organization, _ = Organization.objects.update_or_create(code=spec["code"], defaults=spec)
        organizations.append(organization)
    report.context["organizations"] = organizations
    report.lines.append("organizations: " + ", ".join(f"{o.name} (code {o.code})" for o in organizations))
