import factory

from apps.accounts.models import User, UserType
from apps.organizations.tests.factories import OrganizationFactory

DEFAULT_PASSWORD = "Cotton-Pass1"


class UserFactory(factory.django.DjangoModelFactory):
    """An organization staff member (INTERNAL) with a usable password by default."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    user_type = UserType.INTERNAL
    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    full_name = factory.Faker("name")
    is_staff = True
    is_verified = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SuperAdminFactory(UserFactory):
    user_type = UserType.SUPER_ADMIN
    organization = None  # type: ignore[assignment]
    is_superuser = True
    email = factory.Sequence(lambda n: f"admin{n}@example.com")


class ExternalUserFactory(UserFactory):
    """A partner user or applicant: OTP only, no e-mail, no usable password."""

    user_type = UserType.EXTERNAL
    email = None  # type: ignore[assignment]
    is_staff = False
    mobile = factory.Sequence(lambda n: f"+9198{n:08d}")
    password = factory.PostGenerationMethodCall("set_unusable_password")
