import datetime

import factory

from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization
from apps.organizations.validators import gstin_check_char

FACTORY_PAN = "AABCT1234F"


def gstin_for(pan: str = FACTORY_PAN, state_code: str = "27", entity: str = "1") -> str:
    """A valid GSTIN (correct check character) for `pan` in a state."""
    first14 = f"{state_code}{pan}{entity}Z"
    return first14 + gstin_check_char(first14)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"Trading House {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Private Limited")
    pan = FACTORY_PAN


class GstRegistrationFactory(factory.django.DjangoModelFactory):
    """Direct rows (no service): for constraint tests and fixtures."""

    class Meta:
        model = GstRegistration

    organization = factory.SubFactory(OrganizationFactory)
    gstin = factory.LazyAttribute(lambda o: gstin_for(o.organization.pan))
    state = "MH"
    is_primary = False


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    organization = factory.SubFactory(OrganizationFactory)
    holder_name = factory.LazyAttribute(lambda o: o.organization.legal_name)
    bank_name = "State Bank of India"
    account_number = factory.Sequence(lambda n: f"3820{n:07d}")
    ifsc = "SBIN0000452"


class FinancialYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialYear

    organization = factory.SubFactory(OrganizationFactory)
    label = "2026-27"
    start_date = datetime.date(2026, 4, 1)
    end_date = datetime.date(2027, 3, 31)
    is_active = True


class DocumentSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentSeries

    financial_year = factory.SubFactory(FinancialYearFactory)
    organization = factory.LazyAttribute(lambda o: o.financial_year.organization)
    doc_type = "TRADE"
    prefix = "TR"
