"""Audit history rows for every master-data model, events of every write, and logs that never
carry a whole bank account number."""

from __future__ import annotations

import datetime
import io
import json
import logging
from collections.abc import Iterator

import pghistory
import pytest
import structlog
from django.apps import apps

from apps.events.models import OutboxEvent
from apps.organizations.services.bank_accounts import bank_account_create, bank_account_update
from apps.organizations.services.document_series import document_series_create, document_series_update
from apps.organizations.services.financial_years import financial_year_activate, financial_year_create
from apps.organizations.services.gst_registrations import gst_registration_create, gst_registration_update
from apps.organizations.tests.conftest import GSTIN_GJ, GSTIN_MH

pytestmark = pytest.mark.django_db

RAW_ACCOUNT = "38201234567"


def history(model_name: str, obj) -> list[str]:
    event_model = apps.get_model("organizations", f"{model_name}Event")
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id").values_list("pgh_label", flat=True))


def test_every_master_data_model_has_an_audit_history_model():
    for name in ("GstRegistration", "BankAccount", "FinancialYear", "DocumentSeries", "Organization"):
        model = apps.get_model("organizations", f"{name}Event")
        assert model._meta.db_table == f"organizations_{name.lower()}event"


def test_inserts_and_changes_leave_history_rows_with_the_context(organization):
    with pghistory.context(user="tester", request_id="audit-org-0001"):
        gst = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ, is_primary=True)
        account = bank_account_create(
            organization_id=organization.id,
            holder_name="H",
            bank_name="SBI",
            account_number=RAW_ACCOUNT,
            ifsc="SBIN0000452",
        )
        bank_account_update(organization_id=organization.id, bank_account_id=account.id, branch="Rajkot")
        first = financial_year_create(organization_id=organization.id, start_date=datetime.date(2026, 4, 1))
        second = financial_year_create(organization_id=organization.id, start_date=datetime.date(2027, 4, 1))
        financial_year_activate(organization_id=organization.id, financial_year_id=second.id)
        series = document_series_create(organization_id=organization.id, financial_year_id=first.id, doc_type="TRADE")
        document_series_update(organization_id=organization.id, document_series_id=series.id, prefix="TD")

    assert history("GstRegistration", gst) == ["insert", "update"]
    assert history("BankAccount", account) == ["insert", "update"]
    assert history("FinancialYear", first) == ["insert", "update"]
    assert history("FinancialYear", second) == ["insert", "update"]
    assert history("DocumentSeries", series) == ["insert", "update"]
    event = apps.get_model("organizations", "GstRegistrationEvent").objects.filter(pgh_obj_id=gst.pk).last()
    assert event.is_primary is False
    assert event.pgh_context.metadata == {"user": "tester", "request_id": "audit-org-0001"}


def test_every_service_write_emits_its_event_type(organization):
    gst = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    gst_registration_update(organization_id=organization.id, gst_registration_id=gst.id, is_active=False)
    account = bank_account_create(
        organization_id=organization.id,
        holder_name="H",
        bank_name="SBI",
        account_number=RAW_ACCOUNT,
        ifsc="SBIN0000452",
    )
    bank_account_update(organization_id=organization.id, bank_account_id=account.id, branch="Rajkot")
    year = financial_year_create(organization_id=organization.id, start_date=datetime.date(2026, 4, 1))
    series = document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type="TRADE")
    document_series_update(organization_id=organization.id, document_series_id=series.id, prefix="TD")

    assert list(OutboxEvent.objects.order_by("position").values_list("type", "aggregate_type")) == [
        ("organizations.gst_registration.created", "organizations.gstregistration"),
        ("organizations.gst_registration.updated", "organizations.gstregistration"),
        ("organizations.bank_account.created", "organizations.bankaccount"),
        ("organizations.bank_account.updated", "organizations.bankaccount"),
        ("organizations.financial_year.created", "organizations.financialyear"),
        ("organizations.financial_year.activated", "organizations.financialyear"),
        ("organizations.document_series.created", "organizations.documentseries"),
        ("organizations.document_series.updated", "organizations.documentseries"),
    ]
    assert set(OutboxEvent.objects.values_list("organization_id", flat=True)) == {organization.id}
    assert not [e for e in OutboxEvent.objects.all() if RAW_ACCOUNT in json.dumps(e.payload)]


# --- logs -------------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the configured JSON formatter (settings.LOGGING) writes, captured."""
    (formatter,) = {
        h.formatter
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    }
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_bank_account_service_call_logs_only_the_masked_number(json_log, organization):
    account = bank_account_create(
        organization_id=organization.id,
        holder_name="H",
        bank_name="SBI",
        account_number=RAW_ACCOUNT,
        ifsc="SBIN0000452",
    )
    bank_account_update(organization_id=organization.id, bank_account_id=account.id, is_active=True, branch="Rajkot")

    lines = {line["event"]: line for line in _lines(json_log)}
    created = lines["organizations.bank_account_created"]
    assert (created["bank_account_id"], created["account_number"], created["is_default"]) == (
        str(account.id),
        "***4567",
        True,
    )
    assert lines["organizations.bank_account_updated"]["account_number"] == "***4567"
    assert RAW_ACCOUNT not in json_log.getvalue()


def test_an_api_request_adding_a_bank_account_logs_no_raw_number(json_log, authenticate, org_admin, organization):
    response = authenticate(org_admin).post(
        f"/api/v1/organizations/{organization.id}/bank-accounts/",
        {"holder_name": "H", "bank_name": "SBI", "account_number": RAW_ACCOUNT, "ifsc": "SBIN0000452"},
        format="json",
        HTTP_X_REQUEST_ID="req-bank-0001",
    )

    assert response.status_code == 201
    lines = _lines(json_log)
    (created,) = [line for line in lines if line["event"] == "organizations.bank_account_created"]
    assert created["request_id"] == "req-bank-0001"
    assert RAW_ACCOUNT not in json_log.getvalue()


def test_a_refused_account_number_is_not_echoed_in_the_error(authenticate, org_admin, organization):
    response = authenticate(org_admin).post(
        f"/api/v1/organizations/{organization.id}/bank-accounts/",
        {"holder_name": "H", "bank_name": "SBI", "account_number": "38201234567X", "ifsc": "SBIN0000452"},
        format="json",
    )

    assert response.status_code == 400
    assert b"38201234567" not in response.content
