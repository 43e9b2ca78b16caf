"""Quality values and buyer specs against the commodity's typed parameters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.commodities.errors import QualityInvalid, SpecInvalid
from apps.commodities.quality import Mismatch, check_spec, validate_quality, validate_spec
from apps.commodities.services.parameters import parameter_update

pytestmark = pytest.mark.django_db

GOOD = {"staple_length": "29.0", "micronaire": "4.2", "strength": 29, "trash": Decimal("3.5"), "color_grade": "31-1"}


def refusal(call) -> list[tuple[str, str]]:
    with pytest.raises((QualityInvalid, SpecInvalid)) as refused:
        call()
    return [(e["attr"], e["code"]) for e in refused.value.errors]


def test_values_are_cleaned_to_decimals_and_grades(cotton):
    cleaned = validate_quality(cotton, GOOD)

    assert cleaned == {
        "staple_length": Decimal("29.0"),
        "micronaire": Decimal("4.2"),
        "strength": Decimal("29"),
        "trash": Decimal("3.5"),
        "color_grade": "31-1",
    }
    assert all(isinstance(v, Decimal) for k, v in cleaned.items() if k != "color_grade")


def test_the_error_is_quality_invalid_400(cotton):
    with pytest.raises(QualityInvalid) as refused:
        validate_quality(cotton, {**GOOD, "micronaire": "7"})

    assert (refused.value.code, refused.value.status) == ("quality_invalid", 400)
    assert refused.value.errors == [
        {"attr": "quality.micronaire", "code": "out_of_range", "detail": "Micronaire must be 2.5 to 6; got 7."}
    ]


def test_missing_mandatory_parameters_are_each_reported(cotton):
    errors = refusal(lambda: validate_quality(cotton, {"trash": "3"}))

    assert errors == [
        ("quality.staple_length", "required"),
        ("quality.micronaire", "required"),
        ("quality.strength", "required"),
    ]


def test_partial_values_skip_the_mandatory_check(cotton):
    assert validate_quality(cotton, {"trash": "3"}, partial=True) == {"trash": Decimal("3")}


def test_every_kind_of_problem_names_its_parameter(cotton):
    values = {
        **GOOD,
        "staple_length": "long",
        "micronaire": "6.01",
        "trash": True,
        "color_grade": "99-9",
        "neps": "200",
    }

    errors = refusal(lambda: validate_quality(cotton, values))

    assert errors == [
        ("quality.staple_length", "not_a_number"),
        ("quality.micronaire", "out_of_range"),
        ("quality.trash", "not_a_number"),
        ("quality.color_grade", "grade_not_allowed"),
        ("quality.neps", "unknown_parameter"),
    ]


@pytest.mark.parametrize(("value", "ok"), [("22", True), ("34", True), ("21.99", False), ("34.01", False)])
def test_ranges_are_inclusive(cotton, value, ok):
    values = {**GOOD, "staple_length": value}
    if ok:
        assert validate_quality(cotton, values)["staple_length"] == Decimal(value)
    else:
        assert refusal(lambda: validate_quality(cotton, values)) == [("quality.staple_length", "out_of_range")]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "", "1,5", [29], {"v": 1}])
def test_non_numbers_are_refused(cotton, bad):
    values = {**GOOD, "strength": bad}

    expected = [("quality.strength", "required")] if bad == "" else [("quality.strength", "not_a_number")]
    assert refusal(lambda: validate_quality(cotton, values)) == expected


def test_a_grade_must_be_text_from_the_list(cotton):
    assert refusal(lambda: validate_quality(cotton, {**GOOD, "color_grade": 31})) == [
        ("quality.color_grade", "not_a_grade")
    ]


def test_floats_are_a_type_error(cotton):
    with pytest.raises(TypeError):
        validate_quality(cotton, {**GOOD, "micronaire": 4.2})


def test_an_inactive_parameter_is_unknown(cotton):
    plus_b = cotton.parameters.get(code="plus_b")
    parameter_update(actor=None, commodity_id=cotton.id, parameter_id=plus_b.id, is_active=False)

    assert refusal(lambda: validate_quality(cotton, {**GOOD, "plus_b": "8"})) == [
        ("quality.plus_b", "unknown_parameter")
    ]


def test_values_must_be_an_object(cotton):
    assert refusal(lambda: validate_quality(cotton, ["staple_length"])) == [("quality", "quality_invalid")]


# --- specs ------------------------------------------------------------------------------------


def test_a_spec_is_cleaned(cotton):
    spec = {
        "staple_length": {"min": "28.5", "preferred": 29},
        "micronaire": {"min": "3.6", "max": "4.8"},
        "color_grade": {"accepted": ["21-1", "31-1"], "preferred": "21-1"},
        "strength": {"exact": "29"},
    }

    assert validate_spec(cotton, spec) == {
        "staple_length": {"min": Decimal("28.5"), "preferred": Decimal("29")},
        "micronaire": {"min": Decimal("3.6"), "max": Decimal("4.8")},
        "strength": {"exact": Decimal("29")},
        "color_grade": {"preferred": "21-1", "accepted": ["21-1", "31-1"]},
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"micronaire": {"min": "4.8", "max": "3.6"}}, [("spec.micronaire.min", "min_above_max")]),
        ({"micronaire": {"minimum": "3.6"}}, [("spec.micronaire.minimum", "unknown_key")]),
        ({"micronaire": {"accepted": ["4.2"]}}, [("spec.micronaire.accepted", "accepted_not_allowed")]),
        ({"color_grade": {"min": "31-1"}}, [("spec.color_grade.min", "range_not_allowed")]),
        ({"color_grade": {"accepted": "31-1"}}, [("spec.color_grade.accepted", "not_a_list")]),
        ({"color_grade": {"accepted": ["31-1", "99-9"]}}, [("spec.color_grade.accepted", "grade_not_allowed")]),
        ({"color_grade": {"accepted": ["31-1", "31-1"]}}, [("spec.color_grade.accepted", "duplicate")]),
        ({"neps": {"max": "200"}}, [("spec.neps", "unknown_parameter")]),
        ({"micronaire": {}}, [("spec.micronaire", "no_constraints")]),
        ({"micronaire": "4.2"}, [("spec.micronaire", "no_constraints")]),
        ({"micronaire": {"min": "lots"}}, [("spec.micronaire.min", "not_a_number")]),
        ({"micronaire": {"max": "9"}}, [("spec.micronaire.max", "out_of_range")]),
        ({"micronaire": {"exact": "4.2", "min": "4"}}, [("spec.micronaire.exact", "conflicting")]),
        ({"micronaire": {"min": "4", "preferred": "3.8"}}, [("spec.micronaire.preferred", "preferred_outside_range")]),
        (
            {"color_grade": {"accepted": ["31-1"], "preferred": "21-1"}},
            [("spec.color_grade.preferred", "preferred_not_accepted")],
        ),
    ],
)
def test_a_bad_spec_is_refused_field_by_field(cotton, spec, expected):
    with pytest.raises(SpecInvalid) as refused:
        validate_spec(cotton, spec)

    assert (refused.value.code, refused.value.status) == ("spec_invalid", 400)
    assert [(e["attr"], e["code"]) for e in refused.value.errors] == expected


def test_values_within_the_spec_have_no_mismatch(cotton):
    spec = {"staple_length": {"min": "28.5", "max": "30"}, "color_grade": {"accepted": ["21-1", "31-1"]}}

    assert check_spec(cotton, spec, GOOD) == []


def test_a_value_outside_min_max_exact_or_accepted_is_a_hard_mismatch(cotton):
    spec = {
        "staple_length": {"min": "29.5"},
        "micronaire": {"max": "4.0"},
        "strength": {"exact": "30"},
        "color_grade": {"accepted": ["11-1", "21-1"]},
    }

    mismatches = check_spec(cotton, spec, GOOD)

    assert [(m.parameter, m.constraint, m.hard) for m in mismatches] == [
        ("staple_length", "min", True),
        ("micronaire", "max", True),
        ("strength", "exact", True),
        ("color_grade", "accepted", True),
    ]
    assert mismatches[0].expected == Decimal("29.5")
    assert mismatches[0].value == Decimal("29.0")


def test_a_value_other_than_preferred_is_never_a_hard_mismatch(cotton):
    spec = {"staple_length": {"min": "28", "preferred": "30"}, "color_grade": {"preferred": "11-1"}}

    mismatches = check_spec(cotton, spec, GOOD)

    assert [(m.parameter, m.constraint, m.hard) for m in mismatches] == [
        ("staple_length", "preferred", False),
        ("color_grade", "preferred", False),
    ]


def test_an_unstated_value_is_a_missing_mismatch_hard_only_under_a_hard_constraint(cotton):
    spec = {"moisture": {"max": "8.5"}, "uniformity": {"preferred": "82"}}

    mismatches = check_spec(cotton, spec, GOOD)

    assert mismatches == [
        Mismatch("moisture", "missing", None, None, True, "The offer does not state moisture."),
        Mismatch("uniformity", "missing", None, None, False, "The offer does not state uniformity."),
    ]


def test_boundaries_of_a_spec_are_inclusive(cotton):
    spec = {"staple_length": {"min": "29", "max": "29"}}

    assert check_spec(cotton, spec, {**GOOD, "staple_length": "29.00"}) == []
