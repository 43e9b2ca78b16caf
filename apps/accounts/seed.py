"""Demo users: a platform admin, staff in every role of each demo organization, an applicant."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group

from apps.accounts.models import User, UserType
from apps.accounts.roles import STAFF_ROLES, Role
from apps.accounts.users import user_create
from apps.core.seeding import SeedReport

PLATFORM_ADMIN_EMAIL = "admin@cotton-erp.test"


def _upsert_user(
    *, email: str | None = None, mobile: str | None = None, password: str | None = None, **fields: object
) -> User:
    lookup: dict[str, str | None] = {"email": email} if email else {"mobile": mobile}
    user = User.objects.filter(**lookup).first()
    if user is None:
        user = user_create(email=email, mobile=mobile, password=password, **fields)
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
    report.logins.append(("platform admin", PLATFORM_ADMIN_EMAIL, f"password {password}"))

    for organization in report.context["organizations"]:
        domain = f"{organization.code.lower()}.cotton-erp.test"
        for role in STAFF_ROLES:
            email = f"{role.replace('_', '.')}@{domain}"
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
            report.logins.append((f"{organization.code} {role.replace('_', ' ')}", email, f"password {password}"))

    first = report.context["organizations"][0]
    applicant_mobile = "+919800000001"
    _upsert_user(
        mobile=applicant_mobile,
        full_name="Demo Applicant",
        user_type=UserType.EXTERNAL,
        organization=first,
        is_verified=True,
    )
    report.logins.append(
        (
            f"{first.code} applicant (partner user)",
            applicant_mobile,
            "OTP: POST /api/v1/auth/otp/request, code in admin > SMS (dev inbox)",
        )
    )
