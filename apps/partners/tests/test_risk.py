from decimal import Decimal

import pytest

from apps.partners.risk import RiskInputs, assess


def inputs(**overrides: object) -> RiskInputs:
    base: dict[str, object] = {
        "business_age_months": None,
        "business_type": "TRUST",
        "gst_turnover": None,
        "filing_compliance": "AVERAGE",
        "has_quality_lab": False,
        "has_own_transport": False,
    }
    base.update(overrides)
    return RiskInputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # 50 + 15 (private limited) + 10 (36 months) + 10 (60 lakh) + 10 (good filing) = 95
        (
            {
                "business_type": "PRIVATE_LIMITED",
                "business_age_months": 36,
                "gst_turnover": Decimal("6000000"),
                "filing_compliance": "GOOD",
            },
            (95, "LOW", "DESK_MANAGER"),
        ),
        # 50 + 5 (partnership) + 10 (30 months) + 5 (20 lakh) = 70: the lowest LOW
        (
            {"business_type": "PARTNERSHIP", "business_age_months": 30, "gst_turnover": Decimal("2000000")},
            (70, "LOW", "DESK_MANAGER"),
        ),
        # 50 - 5 (proprietorship) + 0 (18 months) + 0 (5 lakh) = 45
        (
            {"business_type": "PROPRIETORSHIP", "business_age_months": 18, "gst_turnover": Decimal("500000")},
            (45, "MEDIUM", "MANAGER"),
        ),
        # 50 - 5 - 15 (6 months) = 30
        ({"business_type": "PROPRIETORSHIP", "business_age_months": 6}, (30, "HIGH", "DIRECTOR")),
        # 50 - 5 - 15 - 25 (poor filing) + 5 (own transport) = 10
        (
            {
                "business_type": "PROPRIETORSHIP",
                "business_age_months": 6,
                "filing_compliance": "POOR",
                "has_own_transport": True,
            },
            (10, "CRITICAL", "DIRECTOR"),
        ),
        # 50 + 15 + 20 (72 months) + 15 (2 crore) + 10 + 10 (lab) + 5 = 125, capped at 100
        (
            {
                "business_type": "PUBLIC_LIMITED",
                "business_age_months": 72,
                "gst_turnover": Decimal("20000000"),
                "filing_compliance": "GOOD",
                "has_quality_lab": True,
                "has_own_transport": True,
            },
            (100, "LOW", "DESK_MANAGER"),
        ),
    ],
)
def test_risk_score_follows_the_spec_table(overrides: dict[str, object], expected: tuple[int, str, str]) -> None:
    assessment = assess(inputs(**overrides))

    assert (assessment.score, assessment.category, assessment.route) == expected


def test_turnover_thresholds_are_inclusive() -> None:
    assert assess(inputs(gst_turnover=Decimal("10000000"))).score == 65
    assert assess(inputs(gst_turnover=Decimal("5000000"))).score == 60
    assert assess(inputs(gst_turnover=Decimal("1000000"))).score == 55
    assert assess(inputs(gst_turnover=Decimal("999999.99"))).score == 50
