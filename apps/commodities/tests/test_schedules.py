"""Quality premium/discount schedules: SPEC section 5's exchange-style 29 mm contract on a basis
of 60,000 per candy. Percentages are of the basis, add up, and are rounded once at the end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.commodities.errors import ParameterImmutable, QualityInvalid, ScheduleFrozen, ScheduleInvalid
from apps.commodities.models import QualitySchedule
from apps.commodities.schedules import AdjustmentLine, RejectReason, price_adjustment
from apps.commodities.selectors import schedule_get
from apps.commodities.services.parameters import parameter_update
from apps.commodities.services.schedules import RuleSpec, schedule_activate, schedule_rules_replace, schedule_update
from apps.commodities.tests.factories import EXCHANGE_RULES, band, exchange_schedule, ratio
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

BASIS = Decimal("60000")
AT_BASIS = {"staple_length": "29.0", "micronaire": "4.2", "trash": "3.5", "moisture": "8.5"}


def priced(schedule, values, basis=BASIS):
    return price_adjustment(schedule, values, basis)


def test_staple_28_2_and_micronaire_4_85_give_minus_3_and_minus_0_3_percent(schedule_v1):
    result = priced(schedule_v1, {"staple_length": "28.2", "micronaire": "4.85"})

    # 60,000 - 3% (1,800) - 0.3% (180) = 58,020.00
    assert result.adjusted_price == Decimal("58020.00")
    assert result.total_adjustment == Decimal("-1980.00")
    assert [(line.parameter, line.value, line.rule, line.rate, line.amount) for line in result.lines] == [
        ("staple_length", Decimal("28.2"), "28.0-28.4: -3%", Decimal("-3.0000"), Decimal("-1800.00")),
        ("micronaire", Decimal("4.85"), "4.81-4.90: -0.3%", Decimal("-0.3000"), Decimal("-180.00")),
    ]
    assert (result.rejected, result.reject_reasons) == (False, [])


def test_percentages_are_of_the_basis_not_compounded(schedule_v1):
    result = priced(schedule_v1, {"staple_length": "28.2", "micronaire": "4.85"})

    compounded = (BASIS * Decimal("0.97") * Decimal("0.997")).quantize(Decimal("0.01"))
    assert compounded == Decimal("58025.40")
    assert result.adjusted_price != compounded


def test_all_basis_values_give_exactly_60000(schedule_v1):
    result = priced(schedule_v1, AT_BASIS)

    assert result.adjusted_price == Decimal("60000.00")
    assert str(result.adjusted_price) == "60000.00"
    assert [(line.parameter, line.rule, line.amount) for line in result.lines] == [
        ("staple_length", "28.5-29.5: basis", Decimal("0.00")),
        ("micronaire", "3.60-4.80: basis", Decimal("0.00")),
    ]
    assert result.not_covered == []


def test_micronaire_5_0_rejects(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "micronaire": "5.0"})

    assert result.rejected is True
    assert result.adjusted_price is None
    assert result.reject_reasons == [RejectReason("micronaire", Decimal("5.00"), "above 4.90: reject")]


def test_staple_26_9_rejects(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "staple_length": "26.9"})

    assert result.rejected is True
    assert result.reject_reasons == [RejectReason("staple_length", Decimal("26.9"), "below 27.0: reject")]


def test_micronaire_below_3_5_and_trash_above_5_reject_together(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "micronaire": "3.4", "trash": "5.5"})

    assert [(r.parameter, r.rule) for r in result.reject_reasons] == [
        ("micronaire", "below 3.50: reject"),
        ("trash", "above 5.00: reject"),
    ]


def test_trash_4_5_gives_minus_1_percent(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "trash": "4.5"})

    # one point above the 3.5 basis, discount 1:1
    assert result.adjusted_price == Decimal("59400.00")
    trash = [line for line in result.lines if line.parameter == "trash"]
    assert [(line.rule, line.rate, line.amount) for line in trash] == [
        ("above 3.50 up to 5.00: -1% per 1", Decimal("-1.0000"), Decimal("-600.00"))
    ]


def test_trash_3_0_gives_plus_0_25_percent(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "trash": "3.0"})

    # half a point below the 3.5 basis, premium 1:0.5 -> +0.25% = +150
    assert result.adjusted_price == Decimal("60150.00")
    assert [line.rate for line in result.lines if line.parameter == "trash"] == [Decimal("0.2500")]


def test_moisture_9_0_gives_minus_0_5_percent(schedule_v1):
    result = priced(schedule_v1, {**AT_BASIS, "moisture": "9.0"})

    assert result.adjusted_price == Decimal("59700.00")


def test_adjustments_add_up(schedule_v1):
    values = {"staple_length": "30.5", "micronaire": "3.55", "trash": "3.0", "moisture": "9.0"}

    result = priced(schedule_v1, values)

    # +2% (1,200) -0.3% (180) +0.25% (150) -0.5% (300) = +870
    assert result.adjusted_price == Decimal("60870.00")


def test_a_ratio_counts_points_only_up_to_its_limit(schedule_v1):
    assert priced(schedule_v1, {"moisture": "10.0"}).adjusted_price == Decimal("59400.00")  # -1%, not -1.5%
    assert priced(schedule_v1, {"trash": "1.5"}).adjusted_price == Decimal("60450.00")  # +0.75%, not +1%


def test_values_are_read_at_the_reporting_precision_so_band_gaps_hold_no_value(schedule_v1):
    def staple(value):
        return priced(schedule_v1, {"staple_length": value}).lines[0].rule

    def micronaire(value):
        return priced(schedule_v1, {"micronaire": value}).lines[0].rule

    assert staple("27.94") == "27.0-27.9: -7%"
    assert staple("27.95") == "28.0-28.4: -3%"
    assert micronaire("3.594") == "3.50-3.59: -0.3%"
    assert micronaire("3.595") == "3.60-4.80: basis"
    assert micronaire("4.805") == "4.81-4.90: -0.3%"


def test_band_bounds_are_inclusive(schedule_v1):
    assert priced(schedule_v1, {"staple_length": "27.0"}).adjusted_price == Decimal("55800.00")
    assert priced(schedule_v1, {"staple_length": "27.9"}).adjusted_price == Decimal("55800.00")
    assert priced(schedule_v1, {"micronaire": "4.9"}).adjusted_price == Decimal("59820.00")
    assert priced(schedule_v1, {"micronaire": "3.5"}).rejected is False


def test_a_value_no_rule_covers_earns_nothing_and_is_listed(schedule_v1):
    result = priced(schedule_v1, {"staple_length": "31.5", "moisture": "7.0"})

    assert result.adjusted_price == Decimal("60000.00")
    assert result.not_covered == ["staple_length", "moisture"]


def test_parameters_without_rules_and_missing_values_are_ignored(schedule_v1):
    result = priced(schedule_v1, {"strength": "29", "color_grade": "31-1"})

    assert (result.adjusted_price, result.lines, result.not_covered) == (Decimal("60000.00"), [], [])


def test_rounding_happens_once_at_the_end(schedule_v1):
    # On 10,000.16: -3% = -300.0048 and -0.3% = -30.00048; each line shows -300.00 and -30.00,
    # but the exact sum -330.00528 makes 9,670.15472, so 9,670.15 (summing rounded lines: .16).
    result = priced(schedule_v1, {"staple_length": "28.2", "micronaire": "4.85"}, Decimal("10000.16"))

    assert [line.amount for line in result.lines] == [Decimal("-300.00"), Decimal("-30.00")]
    assert result.total_adjustment == Decimal("-330.01")
    assert result.adjusted_price == Decimal("9670.15")


def test_an_absolute_adjustment_is_an_amount_per_rate_unit_added_to_the_percentages(cotton):
    rules = [
        band("staple_length", "28.0", "28.4", "-3"),
        RuleSpec("strength", "BAND", lower=Decimal("30"), adjustment_kind="ABSOLUTE", value=Decimal("500")),
    ]
    schedule = exchange_schedule(cotton, rules=rules)
    schedule = schedule_get(commodity_id=cotton.id, schedule_id=schedule.id)

    result = priced(schedule, {"staple_length": "28.2", "strength": "31"})

    assert result.adjusted_price == Decimal("58700.00")  # 60,000 - 1,800 + 500
    assert result.lines[1] == AdjustmentLine(
        "strength",
        Decimal("31.0"),
        "from 30.0: +500 per rate unit",
        "ABSOLUTE",
        Decimal("500.0000"),
        Decimal("500.00"),
        result.lines[1].rule_id,
    )


def test_quality_values_are_validated(schedule_v1):
    with pytest.raises(QualityInvalid) as refused:
        priced(schedule_v1, {"staple_length": "35", "neps": "3"})

    assert [(e["attr"], e["code"]) for e in refused.value.errors] == [
        ("quality.staple_length", "out_of_range"),
        ("quality.neps", "unknown_parameter"),
    ]


def test_a_float_basis_price_or_value_is_a_type_error(schedule_v1):
    with pytest.raises(TypeError):
        price_adjustment(schedule_v1, AT_BASIS, 60000.0)
    with pytest.raises(TypeError):
        price_adjustment(schedule_v1, {"micronaire": 4.2}, BASIS)


def test_the_basis_price_must_be_positive(schedule_v1):
    with pytest.raises(ScheduleInvalid) as refused:
        price_adjustment(schedule_v1, AT_BASIS, Decimal("0"))

    assert refused.value.errors[0]["attr"] == "basis_price"


# --- versions ---------------------------------------------------------------------------------


def test_a_new_version_does_not_change_prices_computed_with_the_old_one(cotton, schedule_v1):
    lot = {"staple_length": "28.2", "micronaire": "4.85"}
    before = priced(schedule_v1, lot)
    harsher = [
        band("staple_length", "28.0", "28.4", "-4") if r == band("staple_length", "28.0", "28.4", "-3") else r
        for r in EXCHANGE_RULES
    ]

    v2 = exchange_schedule(cotton, rules=harsher)

    v1_again = schedule_get(commodity_id=cotton.id, schedule_id=schedule_v1.id)
    v2 = schedule_get(commodity_id=cotton.id, schedule_id=v2.id)
    assert (v1_again.version, v1_again.is_active, v2.version, v2.is_active) == (1, False, 2, True)
    assert priced(v1_again, lot) == before
    assert priced(v1_again, lot).adjusted_price == Decimal("58020.00")
    assert priced(v2, lot).adjusted_price == Decimal("57420.00")  # -4% (2,400) - 0.3% (180)
    assert priced(v2, lot).schedule_version == 2


def test_versions_are_numbered_per_commodity(cotton, units):
    from apps.commodities.tests.factories import cotton as make_cotton

    other = make_cotton("COTTON_B")

    first = exchange_schedule(cotton, activate=False)
    second = exchange_schedule(cotton, activate=False)
    elsewhere = exchange_schedule(other, activate=False)

    assert (first.version, second.version, elsewhere.version) == (1, 2, 1)


def test_one_active_version_per_commodity(cotton):
    v1 = exchange_schedule(cotton)
    v2 = exchange_schedule(cotton)

    assert list(QualitySchedule.objects.filter(commodity=cotton, is_active=True)) == [v2]
    event = OutboxEvent.objects.filter(type="commodities.schedule.activated", aggregate_id=str(v2.id)).get()
    assert event.payload["deactivated"] == [str(v1.id)]
    assert event.organization_id is None


def test_an_activated_version_is_frozen(schedule_v1):
    with pytest.raises(ScheduleFrozen) as refused:
        schedule_rules_replace(actor=None, schedule_id=schedule_v1.id, rules=EXCHANGE_RULES[:2])
    assert refused.value.status == 409
    with pytest.raises(ScheduleFrozen):
        schedule_update(actor=None, schedule_id=schedule_v1.id, name="Changed")

    assert schedule_v1.rules.count() == len(EXCHANGE_RULES)


def test_a_draft_can_change_its_rules_and_then_be_activated(cotton):
    draft = exchange_schedule(cotton, activate=False, rules=[band("staple_length", "28.0", "28.4", "-3")])

    schedule_rules_replace(actor=None, schedule_id=draft.id, rules=EXCHANGE_RULES)
    schedule_activate(actor=None, commodity_id=cotton.id, schedule_id=draft.id)

    draft.refresh_from_db()
    assert (draft.rules.count(), draft.is_active, draft.is_frozen) == (len(EXCHANGE_RULES), True, True)
    assert OutboxEvent.objects.filter(type="commodities.schedule.updated", aggregate_id=str(draft.id)).count() == 1


def test_activating_the_active_version_again_changes_nothing(schedule_v1, cotton):
    events = OutboxEvent.objects.count()

    schedule_activate(actor=None, commodity_id=cotton.id, schedule_id=schedule_v1.id)

    assert OutboxEvent.objects.count() == events


def test_an_empty_draft_cannot_be_activated(cotton):
    draft = exchange_schedule(cotton, activate=False, rules=[])

    with pytest.raises(ScheduleInvalid):
        schedule_activate(actor=None, commodity_id=cotton.id, schedule_id=draft.id)


def test_the_reporting_precision_of_a_parameter_an_activated_schedule_reads_is_frozen(schedule_v1, cotton):
    staple = cotton.parameters.get(code="staple_length")

    with pytest.raises(ParameterImmutable):
        parameter_update(actor=None, commodity_id=cotton.id, parameter_id=staple.id, decimals=2)
    parameter_update(actor=None, commodity_id=cotton.id, parameter_id=staple.id, name="Staple (mm)")


# --- rule validation --------------------------------------------------------------------------


def _refused_rules(cotton, rules):
    versions = QualitySchedule.objects.filter(commodity=cotton).count()
    with pytest.raises(ScheduleInvalid) as refused:
        exchange_schedule(cotton, activate=False, rules=rules)
    assert refused.value.code == "schedule_invalid"
    assert QualitySchedule.objects.filter(commodity=cotton).count() == versions  # nothing written
    return [(e["attr"], e["code"]) for e in refused.value.errors]


def test_overlapping_bands_are_refused(cotton):
    rules = [band("staple_length", "27.0", "28.0", "-7"), band("staple_length", "28.0", "28.4", "-3")]

    assert _refused_rules(cotton, rules) == [("rules.staple_length", "overlap")]


def test_a_band_overlapping_a_ratio_is_refused_but_ratios_may_share_their_basis(cotton):
    shared_basis = [
        ratio("trash", basis="3.5", limit="5.0", percent_per_point="-1"),
        ratio("trash", basis="3.5", limit="2.0", percent_per_point="0.5"),
    ]
    assert exchange_schedule(cotton, activate=False, rules=shared_basis).rules.count() == 2

    overlapping = [*shared_basis, band("trash", "4.0", "4.5", "-2")]
    assert _refused_rules(cotton, overlapping) == [("rules.trash", "overlap")]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (RuleSpec("staple_length", "BAND", lower=Decimal("28")), ("rules.0.value", "invalid")),
        (
            RuleSpec(
                "staple_length",
                "BAND",
                lower=Decimal("29"),
                upper=Decimal("28"),
                value=Decimal("1"),
                adjustment_kind="PERCENT",
            ),
            ("rules.0.upper", "invalid"),
        ),
        (
            RuleSpec(
                "trash",
                "RATIO",
                lower=Decimal("2"),
                upper=Decimal("5"),
                basis=Decimal("3.5"),
                value=Decimal("-1"),
                step=Decimal("1"),
                adjustment_kind="PERCENT",
            ),
            ("rules.0.basis", "invalid"),
        ),
        (RuleSpec("staple_length", "REJECT_BELOW", upper=Decimal("27")), ("rules.0.lower", "invalid")),
        (RuleSpec("color_grade", "REJECT_BELOW", lower=Decimal("1")), ("rules.0.parameter", "invalid")),
        (RuleSpec("neps", "REJECT_ABOVE", upper=Decimal("300")), ("rules.0.parameter", "unknown_parameter")),
    ],
)
def test_each_rule_is_validated_for_its_kind(cotton, rule, expected):
    assert expected in _refused_rules(cotton, [rule])
