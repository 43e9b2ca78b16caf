"""Demo partners: a dozen approved partners across both demo organizations (mills, ginners, traders,
a broker, a transporter) with their owners, further branches (one in another state, with its own
GSTIN), employees, the transporter's lorries, two insiders of one corporate group, and three
applications waiting in the SCH queue at different stages (the submitted one assigned to the KYC
officer).

Everything goes through the onboarding services (so every step is an event and in the audit
history), with the organization's KYC officer verifying and its admin approving. Idempotent: a
partner or application whose PAN the organization already has is left as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from apps.accounts.models import User, UserType
from apps.accounts.roles import Role
from apps.accounts.users import user_create
from apps.core.seeding import Login, SeedReport
from apps.locations.models import Location
from apps.organizations.validators import gstin_check_char
from apps.partners import services
from apps.partners.documents import required_documents
from apps.partners.models import (
    ApplicationState,
    BusinessPartner,
    BusinessType,
    CorporateGroup,
    EntityClass,
    FilingCompliance,
    OnboardingApplication,
    PartnerDocument,
    ServiceType,
)
from apps.partners.services import assignment, branches, employees, groups, vehicles

# A one-page PDF: what the demo "uploads" for every document.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class DemoPartner:
    legal_name: str
    pan: str
    state_code: str  # GST state code
    town: str  # gazetteer town (location name)
    pincode: str
    business_type: str
    mobile: str
    owner_name: str
    entity_class: str = EntityClass.BUSINESS_ENTITY
    service_type: str = ""
    imports_or_exports: bool = False
    owns_lorries: bool = False
    business_age_months: int = 72
    gst_turnover: Decimal = Decimal("25000000")
    credit_limit: Decimal = Decimal("5000000")
    group: str = ""
    # Further branches: (code, name, branch type, GST state code, town, pincode).
    branches: tuple[tuple[str, str, str, str, str, str], ...] = ()
    # Employees the owner invites: (mobile, name, role).
    employees: tuple[tuple[str, str, str], ...] = ()
    vehicles: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


# PAN: 5 letters (the 4th tells the holder: C company, F firm, P person), 4 digits, a letter.
PARTNERS: dict[str, list[DemoPartner]] = {
    "SCH": [
        DemoPartner(
            "Shree Rajkot Ginning Private Limited",
            "AAFCS1001K",
            "24",
            "Rajkot",
            "360003",
            BusinessType.PRIVATE_LIMITED,
            "+919810000001",
            "Haresh Patel",
            branches=(("GIN-GONDAL", "Gondal ginning factory", "FACTORY", "24", "Rajkot", "360311"),),
            employees=(("+919810000101", "Kiran Desai", "TRADER"), ("+919810000102", "Meena Joshi", "VIEWER")),
        ),
        DemoPartner(
            "Amreli Cotton Ginners LLP",
            "AAFFA1002L",
            "24",
            "Amreli",
            "365601",
            BusinessType.LLP,
            "+919810000002",
            "Bhavesh Vora",
        ),
        DemoPartner(
            "Kadi Cotton Industries",
            "AAFFK1003M",
            "24",
            "Kadi",
            "382715",
            BusinessType.PARTNERSHIP,
            "+919810000003",
            "Nitin Shah",
            group="Kadi Patel Group",
        ),
        DemoPartner(
            "Kadi Cotton Exports Private Limited",
            "AAFCK1004N",
            "24",
            "Ahmedabad",
            "380009",
            BusinessType.PRIVATE_LIMITED,
            "+919810000004",
            "Jignesh Shah",
            imports_or_exports=True,
            group="Kadi Patel Group",
        ),
        DemoPartner(
            "Coimbatore Spinning Mills Limited",
            "AAFCC1005P",
            "33",
            "Coimbatore",
            "641018",
            BusinessType.PUBLIC_LIMITED,
            "+919810000005",
            "R. Senthil Kumar",
            gst_turnover=Decimal("900000000"),
            credit_limit=Decimal("25000000"),
            branches=(("MILL-TPR", "Tiruppur spinning unit", "FACTORY", "33", "Tiruppur", "641604"),),
            employees=(("+919810000501", "S. Anand", "TRADER"),),
        ),
        DemoPartner(
            "Tiruppur Knit Yarns Private Limited",
            "AAFCT1006Q",
            "33",
            "Tiruppur",
            "641601",
            BusinessType.PRIVATE_LIMITED,
            "+919810000006",
            "K. Muthusamy",
            credit_limit=Decimal("12000000"),
        ),
        DemoPartner(
            "Saurashtra Cotton Brokers",
            "AAJPB1007R",
            "24",
            "Rajkot",
            "360001",
            BusinessType.PROPRIETORSHIP,
            "+919810000007",
            "Mahesh Bhatt",
            entity_class=EntityClass.SERVICE_PROVIDER,
            service_type=ServiceType.BROKER,
            credit_limit=Decimal("0"),
        ),
        DemoPartner(
            "Gujarat Cotton Roadways",
            "AAJPG1008S",
            "24",
            "Ahmedabad",
            "380022",
            BusinessType.PROPRIETORSHIP,
            "+919810000008",
            "Sukhdev Singh",
            entity_class=EntityClass.SERVICE_PROVIDER,
            service_type=ServiceType.TRANSPORTER,
            owns_lorries=True,
            credit_limit=Decimal("0"),
            vehicles=("GJ01AB4321", "GJ03CT7788"),
        ),
    ],
    "DFT": [
        DemoPartner(
            "Adilabad Ginning Company",
            "AAFFA2001T",
            "36",
            "Adilabad",
            "504001",
            BusinessType.PARTNERSHIP,
            "+919820000001",
            "Srinivas Reddy",
        ),
        DemoPartner(
            "Akola Cotton Processors Private Limited",
            "AAFCA2002U",
            "27",
            "Akola",
            "444001",
            BusinessType.PRIVATE_LIMITED,
            "+919820000002",
            "Prakash Deshmukh",
            branches=(("WH-ADB", "Adilabad warehouse", "WAREHOUSE", "36", "Adilabad", "504002"),),
            employees=(("+919820000201", "Sunil Wankhede", "TRADER"),),
        ),
        DemoPartner(
            "Guntur Cotton Traders",
            "AAJPG2003V",
            "37",
            "Guntur",
            "522002",
            BusinessType.PROPRIETORSHIP,
            "+919820000003",
            "Venkata Rao",
            business_age_months=30,
        ),
        DemoPartner(
            "Warangal Spinners Limited",
            "AAFCW2004W",
            "36",
            "Warangal",
            "506002",
            BusinessType.PUBLIC_LIMITED,
            "+919820000004",
            "Lakshmi Narayana",
            gst_turnover=Decimal("600000000"),
            credit_limit=Decimal("20000000"),
        ),
    ],
}

# Applications in the SCH queue: one submitted, one under review (documents partly verified),
# one sent back to the applicant for more information.
QUEUE: list[tuple[DemoPartner, str]] = [
    (DemoPartner("Jalna Cotton Company", "AAFFJ3001X", "27", "Jalna", "431203",
                 BusinessType.PARTNERSHIP, "+919830000001", "Suresh Jadhav"), ApplicationState.SUBMITTED),
    (DemoPartner("Bhiwandi Yarn Traders Private Limited", "AAFCB3002Y", "27", "Bhiwandi", "421302",
                 BusinessType.PRIVATE_LIMITED, "+919830000002", "Imran Ansari"), ApplicationState.UNDER_REVIEW),
    (DemoPartner("Khandwa Agro Ginners", "AAJPK3003Z", "23", "Khandwa", "450001",
                 BusinessType.PROPRIETORSHIP, "+919830000003", "Ramesh Choudhary", business_age_months=10,
                 gst_turnover=Decimal("800000")), ApplicationState.INFO_REQUESTED),
]  # fmt: skip


def _gstin(state_code: str, pan: str) -> str:
    base = f"{state_code}{pan}1Z"
    return base + gstin_check_char(base)


def _staff(organization: Any, role: str) -> User:
    user = User.objects.filter(organization=organization, groups__name=role, user_type=UserType.INTERNAL).first()
    if user is None:
        raise RuntimeError(f"seed the accounts first: no {role} in {organization.code}")
    return user


def _applicant(organization: Any, demo: DemoPartner) -> User:
    user = User.objects.filter(mobile=demo.mobile).first()
    if user is None:
        user = user_create(
            mobile=demo.mobile,
            full_name=demo.owner_name,
            user_type=UserType.EXTERNAL,
            organization_id=organization.pk,
            is_verified=True,
        )
    return user


def _apply(organization: Any, demo: DemoPartner) -> OnboardingApplication:
    """Create and submit the application with every document it needs."""
    applicant = _applicant(organization, demo)
    location = Location.objects.filter(name=demo.town, is_active=True).first()
    gstin = _gstin(demo.state_code, demo.pan)
    application = services.application_create(
        applicant=applicant,
        entity_class=demo.entity_class,
        business_type=demo.business_type,
        service_type=demo.service_type,
        legal_name=demo.legal_name,
        pan=demo.pan,
        gstin=gstin,
        imports_or_exports=demo.imports_or_exports,
        owns_lorries=demo.owns_lorries,
        address_line1=f"Main Road, {demo.town}",
        city=demo.town,
        state_code=demo.state_code,
        pincode=demo.pincode,
        contact_email="",
        contact_phone=demo.mobile,
        bank_account_number=f"{int(hashlib.sha256(demo.pan.encode()).hexdigest(), 16) % 10**12:012d}",
        bank_ifsc="SBIN0001234",
        business_age_months=demo.business_age_months,
        gst_turnover=demo.gst_turnover,
        filing_compliance=FilingCompliance.GOOD,
        has_quality_lab=demo.business_type == BusinessType.PUBLIC_LIMITED,
        has_own_transport=demo.owns_lorries,
    )
    if location is not None:
        OnboardingApplication.objects.filter(pk=application.pk).update(location=location)
    for document_type in required_documents(
        entity_class=demo.entity_class,
        business_type=demo.business_type,
        service_type=demo.service_type,
        imports_or_exports=demo.imports_or_exports,
        owns_lorries=demo.owns_lorries,
        gstin=gstin,
    ):
        document = PartnerDocument(
            application=application,
            document_type=document_type,
            content_type="application/pdf",
            size_bytes=len(DEMO_PDF),
        )
        document.file.save(f"{document_type.lower()}.pdf", ContentFile(DEMO_PDF), save=False)
        document.save()
    return services.application_submit(applicant=applicant, application_id=application.pk)


def _verify_documents(application: OnboardingApplication, officer: User, *, limit: int | None = None) -> None:
    for document in application.documents.order_by("document_type")[:limit]:
        services.document_verify(actor=officer, document_id=document.pk)


def _seed_partner(organization: Any, demo: DemoPartner, officer: User, approver: User) -> BusinessPartner:
    existing = BusinessPartner.objects.filter(organization=organization, pan=demo.pan).first()
    if existing is not None:
        return existing
    application = _apply(organization, demo)
    _verify_documents(application, officer)
    approval = services.application_approve(
        actor=approver, application_id=application.pk, credit_limit=demo.credit_limit, note="Demo partner"
    )
    partner = approval.partner
    if demo.group:
        group = CorporateGroup.objects.filter(organization=organization, name=demo.group).first()
        if group is None:
            group = groups.corporate_group_create(actor=approver, name=demo.group)
        groups.partner_set_corporate_group(actor=approver, partner_id=partner.pk, group_id=group.pk)
    owner = approval.membership.user
    for code, name, branch_type, state_code, town, pincode in demo.branches:
        location = Location.objects.filter(name=town, is_active=True).first()
        branches.branch_create(
            actor=owner,
            partner_id=partner.pk,
            code=code,
            name=name,
            branch_type=branch_type,
            address_line1=f"Industrial area, {town}",
            city=town,
            state_code=state_code,
            pincode=pincode,
            # A branch in another state carries that state's GSTIN; in the partner's own, none.
            gstin=_gstin(state_code, demo.pan) if state_code != demo.state_code else None,
            location_id=location.pk if location is not None else None,
        )
    for mobile, name, role in demo.employees:
        employees.employee_invite(actor=owner, partner_id=partner.pk, mobile=mobile, full_name=name, role=role)
    for registration_number in demo.vehicles:
        vehicles.vehicle_create(
            actor=owner,
            partner_id=partner.pk,
            registration_number=registration_number,
            vehicle_type="TRUCK",
            capacity_kg=Decimal("16000"),
        )
    return partner


def _seed_queue(organization: Any, officer: User, desk_manager: User) -> None:
    for demo, stage in QUEUE:
        if OnboardingApplication.objects.filter(organization=organization, pan=demo.pan).exists():
            continue
        application = _apply(organization, demo)
        if stage == ApplicationState.SUBMITTED:
            # The desk manager assigns it to the KYC officer, who then works it from "assigned to me".
            assignment.application_assign(actor=desk_manager, application_id=application.pk, officer_id=officer.pk)
        elif stage == ApplicationState.UNDER_REVIEW:
            _verify_documents(application, officer, limit=2)
        elif stage == ApplicationState.INFO_REQUESTED:
            services.application_request_info(
                actor=officer,
                application_id=application.pk,
                message="Please upload a GST certificate showing the current principal place of business.",
            )


def seed_partners(report: SeedReport) -> None:
    for organization in report.context["organizations"]:
        demos = PARTNERS.get(organization.code, [])
        officer = _staff(organization, Role.KYC_OFFICER)
        approver = _staff(organization, Role.ORGANIZATION_ADMIN)
        for demo in demos:
            _seed_partner(organization, demo, officer, approver)
        if organization.code == "SCH":
            _seed_queue(organization, officer, _staff(organization, Role.DESK_MANAGER))
    total = BusinessPartner.objects.count()
    queued = OnboardingApplication.objects.filter(
        state__in=[ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW, ApplicationState.INFO_REQUESTED]
    ).count()
    report.lines.append(f"partners: {total} approved, {queued} applications in the queues")


def demo_logins() -> list[Login]:
    """The owners and employees of the demo partners whose users exist and are active."""
    wanted: list[Login] = []
    for code, demos in PARTNERS.items():
        for demo in demos:
            wanted.append((f"{code} partner owner: {demo.legal_name}", demo.mobile, "OTP (dev SMS inbox)"))
            wanted += [
                (f"{code} {role.lower()} of {demo.legal_name}", mobile, "OTP (dev SMS inbox)")
                for mobile, _name, role in demo.employees
            ]
    active = set(
        User.objects.filter(mobile__in=[w[1] for w in wanted], is_active=True).values_list("mobile", flat=True)
    )
    return [login for login in wanted if login[1] in active]
