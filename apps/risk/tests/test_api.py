"""The risk API: risk/limits/ (list, set), limit changes (list, approve, reject), risk/exposure/
and risk/assessments/, each scoped (staff of the organization, the partner's own users) with the
error shape and nothing written on refusal."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.risk.models import CreditAccount, ExposureStage, LimitChange
from apps.risk.services.assessments import AssessmentContext, assess_buyer
from apps.risk.services.exposure import exposure_book
from apps.risk.tests.factories import set_credit

pytestmark = pytest.mark.django_db

LIMITS = "/api/v1/risk/limits/"
CHANGES = "/api/v1/risk/limits/changes/"


def _book(partner: Any, amount: str, stage: str = ExposureStage.CONTRACTED) -> None:
    with transaction.atomic():
        exposure_book(
            partner_id=partner.pk, stage=stage, amount=Decimal(amount), source_type="trade", source_id=uuid.uuid4()
        )


def test_a_risk_officer_lists_the_organizations_credit_rows_with_recommendations(
    authenticate: Any, risk_officer: Any, buyer: Any, seller: Any, foreign_partner: Any, django_assert_num_queries: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal("4.6"), payment_performance=Decimal("95"))
    set_credit(seller, credit_limit=Decimal("1000000"), rating=Decimal("2.5"))
    set_credit(foreign_partner, credit_limit=Decimal("1000000"))
    _book(buyer, "800000")
    client = authenticate(risk_officer)

    with django_assert_num_queries(4):  # auth (user, groups' permissions, user permissions) + one page
        response = client.get(LIMITS, {"level": "MEDIUM"})

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["partner_id"] == str(buyer.pk)
    assert (row["credit_limit"], row["exposure"], row["headroom"], row["utilisation"], row["level"]) == (
        "1000000.00",
        "800000.00",
        "200000.00",
        "0.8000",
        "MEDIUM",
    )
    assert row["recommended_limit"] == "1200000.00"
    assert row["counterparty_score"] == 95  # 4.6 / 5 x 50 + 95 / 4 + 100 / 4 = 94.75
    rows = client.get(LIMITS).json()["results"]
    assert {r["partner_id"]: r["recommended_limit"] for r in rows} == {
        str(buyer.pk): "1200000.00",
        str(seller.pk): "750000.00",
    }


def test_a_partner_user_reads_only_its_own_credit_row_without_recommendations(
    authenticate: Any, buyer: Any, seller: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    set_credit(seller, credit_limit=Decimal("1000000"))

    response = authenticate(buyer.owner).get(LIMITS)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["partner_id"], row["recommended_limit"], row["counterparty_score"]) == (str(buyer.pk), None, None)


def test_staff_without_the_risk_capability_may_not_read(authenticate: Any, organization: Any, buyer: Any) -> None:
    from apps.risk.tests.conftest import staff

    response = authenticate(staff(organization, "kyc_officer")).get(LIMITS)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_anonymous_callers_are_refused(api_client: Any) -> None:
    assert api_client.get(LIMITS).status_code == 401
    assert api_client.post(LIMITS, {}, format="json").status_code == 401


def test_a_risk_officer_sets_a_limit(authenticate: Any, risk_officer: Any, buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    response = authenticate(risk_officer).post(
        LIMITS, {"partner_id": str(buyer.pk), "credit_limit": "1500000", "reason": "Good payer"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["old_limit"], body["new_limit"]) == ("APPLIED", "1000000.00", "1500000.00")
    assert CreditAccount.objects.get(partner_id=buyer.pk).credit_limit == Decimal("1500000.00")


@pytest.mark.parametrize(
    ("body", "status", "code", "attrs"),
    [
        ({"credit_limit": "-1", "reason": "x"}, 400, "limit_invalid", ["credit_limit"]),
        ({"credit_limit": "abc", "reason": ""}, 400, "limit_change_invalid", ["credit_limit", "reason"]),
        ({"credit_limit": "100", "reason": ""}, 400, "reason_required", ["reason"]),
        ({"partner_id": "not-a-uuid", "credit_limit": "100", "reason": "x"}, 400, None, ["partner_id"]),
        ({"partner_id": str(uuid.UUID(int=7)), "credit_limit": "100", "reason": "x"}, 404, "partner_not_found", []),
    ],
)
def test_bad_limit_requests_are_refused_with_a_code_and_nothing_written(
    authenticate: Any,
    risk_officer: Any,
    buyer: Any,
    body: dict[str, Any],
    status: int,
    code: str | None,
    attrs: list[str],
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    payload = {"partner_id": str(buyer.pk), **body}

    response = authenticate(risk_officer).post(LIMITS, payload, format="json")

    assert response.status_code == status
    if code is not None:
        assert response.json()["code"] == code
    assert sorted(e["attr"] for e in response.json()["errors"] if e["attr"]) == attrs
    assert LimitChange.objects.count() == 0
    assert CreditAccount.objects.get(partner_id=buyer.pk).credit_limit == Decimal("1000000.00")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("owner", 403, "permission_denied"),
        ("other_org_risk_officer", 404, "partner_not_found"),
        ("desk_manager", 403, "permission_denied"),
    ],
)
def test_only_the_organizations_risk_desk_may_set_limits(
    request: Any, authenticate: Any, buyer: Any, who: str, status: int, code: str
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    actor = buyer.owner if who == "owner" else request.getfixturevalue(who)

    response = authenticate(actor).post(
        LIMITS, {"partner_id": str(buyer.pk), "credit_limit": "2000000", "reason": "Please"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert LimitChange.objects.count() == 0


def test_a_request_is_approved_by_a_second_officer_and_not_by_its_requester(
    authenticate: Any, api_client: Any, risk_officer: Any, second_risk_officer: Any, buyer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    created = authenticate(risk_officer).post(
        LIMITS, {"partner_id": str(buyer.pk), "credit_limit": "5000000", "reason": "Season"}, format="json"
    )
    change_id = created.json()["id"]
    assert created.json()["status"] == "PENDING"

    own = api_client.post(f"{CHANGES}{change_id}/approve", {}, format="json")
    assert (own.status_code, own.json()["code"]) == (409, "maker_checker_violation")

    pending = authenticate(second_risk_officer).get(CHANGES, {"status": "PENDING"}).json()["results"]
    assert [c["id"] for c in pending] == [change_id]
    approved = authenticate(second_risk_officer).post(f"{CHANGES}{change_id}/approve", {"note": "ok"}, format="json")

    assert (approved.status_code, approved.json()["status"]) == (200, "APPLIED")
    assert CreditAccount.objects.get(partner_id=buyer.pk).credit_limit == Decimal("5000000.00")


def test_deciding_a_change_out_of_scope_answers_404(
    authenticate: Any, risk_officer: Any, other_org_risk_officer: Any, buyer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    created = authenticate(risk_officer).post(
        LIMITS, {"partner_id": str(buyer.pk), "credit_limit": "5000000", "reason": "Season"}, format="json"
    )
    change_id = created.json()["id"]

    for action in ("approve", "reject"):
        response = authenticate(other_org_risk_officer).post(f"{CHANGES}{change_id}/{action}", {}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "limit_change_not_found")
    response = authenticate(buyer.owner).post(f"{CHANGES}{change_id}/reject", {}, format="json")
    assert response.status_code == 403
    assert LimitChange.objects.get(pk=change_id).status == "PENDING"


def test_exposure_and_assessments_are_listed_within_scope(
    authenticate: Any, risk_officer: Any, buyer: Any, seller: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    set_credit(seller, credit_limit=Decimal("1000000"))
    _book(buyer, "1000", ExposureStage.NEGOTIATING)
    _book(seller, "2000")
    assess_buyer(partner_id=buyer.pk, amount=Decimal("1000"), context=AssessmentContext())

    staff_rows = authenticate(risk_officer).get("/api/v1/risk/exposure/", {"open": "true"}).json()["results"]
    own_rows = authenticate(buyer.owner).get("/api/v1/risk/exposure/").json()["results"]
    own_assessments = authenticate(buyer.owner).get("/api/v1/risk/assessments/").json()["results"]
    seller_assessments = authenticate(seller.owner).get("/api/v1/risk/assessments/").json()["results"]

    assert sorted(r["amount"] for r in staff_rows) == ["1000.00", "2000.00"]
    assert [(r["stage"], r["amount"]) for r in own_rows] == [("NEGOTIATING", "1000.00")]
    assert [(a["result"], a["score"]) for a in own_assessments] == [("PASS", 100)]
    assert seller_assessments == []


def test_filters_are_validated(authenticate: Any, risk_officer: Any) -> None:
    response = authenticate(risk_officer).get("/api/v1/risk/exposure/", {"stage": "NOPE", "partner": "x"})

    assert response.status_code == 400
    assert sorted(e["attr"] for e in response.json()["errors"]) == ["partner", "stage"]
