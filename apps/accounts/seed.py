"""Demo users: a platform admin, staff in every role of each demo organization, an applicant."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group

from apps.accounts.models import User, UserType
from apps.accounts.roles import STAFF_ROLES, Role
from apps.accounts.users import user_create
from apps.core.seeding import Login, SeedReport
from apps.organizations.models import Organization
from apps.organizations.seed import DEMO_ORGANIZATIONS

PLATFORM_ADMIN_EMAIL = "admin@cotton-erp.test"
APPLICANT_MOBILE = "+919800000001"


def _staff_email(organization_code: str, role: str) -> str:
    return f"{role.replace('_', '.')}@{organization_code.lower()}.cotton-erp.test"


def _upsert_user(
    *,
    email: str | None = None,
    mobile: str | None = None,
    password: str | None = None,
    full_name: str,
    user_type: str,
    organization: Organization | None,
    is_staff: bool = False,
    is_superuser: bool = False,
    is_verified: bool = False,
) -> User:
    lookup: dict[str, str | None] = {"email": email} if email else {"mobile": mobile}
    user = User.objects.filter(**lookup).first()
    fields: dict[str, Any] = {
        "full_name": full_name,
        "user_type": user_type,
        "organization": organization,
        "is_staff": is_staff,
        "is_superuser": is_superuser,
        "is_verified": is_verified,
    }
    if user is None:
        user = user_create(
            email=email,
            mobile=mobile,
            password=password,
            full_name=full_name,
            user_type=user_type,
            organization_id=organization.pk if organization else None,
            is_staff=is_staff,
            is_superuser=is_superuser,
            is_verified=is_verified,
        )
    else:
        for key, value in fields.items():
            setattr(user, key, value)
        if password:
            user.set_password(str(password))
        user.save()
    return user


def seed_users(report: SeedReport) -> None:
    password = settings.DEMO_PASSWORD
    admin = _upsert_user(
        email=PLATFORM_ADMIN_EMAIL,
        password=password,
        full_name="Platform Admin",
        user_type=UserType.SUPER_ADMIN,
        organization=None,
        is_staff=True,
        is_superuser=True,
        is_verified=True,
    )
    admin.groups.set([Group.objects.get(name=Role.PLATFORM_ADMIN)])

    for organization in report.context["organizations"]:
        for role in STAFF_ROLES:
            email = _staff_email(organization.code, role)
            user = _upsert_user(
                email=email,
                password=password,
                full_name=f"{role.replace('_', ' ').title()} ({organization.code})",
                user_type=UserType.INTERNAL,
                organization=organization,
                is_staff=True,
                is_verified=True,
            )
            user.groups.set([Group.objects.get(name=role)])

    first = report.context["organizations"][0]
    _upsert_user(
        mobile=APPLICANT_MOBILE,
        full_name="Demo Applicant",
        user_type=UserType.EXTERNAL,
        organization=first,
        is_verified=True,
    )


def demo_logins() -> list[Login]:
    """The demo staff logins (and the applicant) that exist and are active, in seeding order."""
    password = f"password {settings.DEMO_PASSWORD}"
    codes = [spec["code"] for spec in DEMO_ORGANIZATIONS]
    wanted: list[tuple[str, str, str]] = [("platform admin", PLATFORM_ADMIN_EMAIL, password)]
    for code in codes:
        wanted += [(f"{code} {role.replace('_', ' ')}", _staff_email(code, role), password) for role in STAFF_ROLES]
    active = set(User.objects.filter(email__in=[w[1] for w in wanted], is_active=True).values_list("email", flat=True))
    logins = [login for login in wanted if login[1] in active]
    first = Organization.objects.filter(code=codes[0]).first()
    if first is not None and User.objects.filter(mobile=APPLICANT_MOBILE, is_active=True).exists():
        logins.append(
            (
                f"{first.code} applicant (partner user)",
                APPLICANT_MOBILE,
                "OTP: POST /api/v1/auth/otp/request, code in admin > SMS (dev inbox)",
            )
        )
    return logins
