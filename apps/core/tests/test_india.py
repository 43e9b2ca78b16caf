import pytest

from apps.core.india import STATES, STATES_BY_CODE, STATES_BY_GST_CODE, Region, region_for_state


def test_every_state_and_union_territory_has_a_unique_code_and_gst_code():
    assert len(STATES) == 36
    assert len({s.code for s in STATES}) == 36
    assert len({s.gst_code for s in STATES}) == 36
    assert sum(s.is_union_territory for s in STATES) == 8


@pytest.mark.parametrize(
    ("state", "region"),
    [
        ("MH", Region.WEST),
        ("gj", Region.WEST),
        ("TS", Region.SOUTH),
        ("LA", Region.NORTH),
        ("CG", Region.CENTRAL),
        ("OD", Region.EAST),
        ("AR", Region.NORTHEAST),
        ("AN", Region.UNKNOWN),
        ("XX", Region.UNKNOWN),
        ("", Region.UNKNOWN),
    ],
)
def test_region_follows_the_spec_table(state, region):
    assert region_for_state(state) == region


def test_gst_codes_map_to_states_including_the_pre_merger_daman_code():
    assert STATES_BY_GST_CODE["24"].name == "Gujarat"
    assert STATES_BY_GST_CODE["27"] is STATES_BY_CODE["MH"]
    assert STATES_BY_GST_CODE["25"] is STATES_BY_CODE["DN"]
