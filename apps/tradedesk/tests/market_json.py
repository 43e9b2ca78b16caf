"""What the tests of the hand-written market statement compare: the JSON PostgreSQL writes for a
page (market.MarketAvailabilityPage) against what DRF writes for the same rows, through the API's
renderer, byte for byte; and the rows' cursor positions against str() of the ORM's created_at."""

from __future__ import annotations

from typing import Any

from apps.core.renderers import OrjsonRenderer
from apps.tradedesk import market
from apps.tradedesk.api.market import MarketAvailabilityOutput, availability_rows


def page_json(rows: list[market.MarketPageRow]) -> bytes:
    """The page's `results` as the view hands them to the renderer."""
    return OrjsonRenderer().render({"results": market.page_results(rows)})


def drf_json(rows: list[dict[str, Any]]) -> bytes:
    """The ORM's plain rows through availability_rows, rendered as the API renders."""
    return OrjsonRenderer().render({"results": availability_rows(rows)})


def documented_json(viewer: market.MarketViewer, rows: list[dict[str, Any]], *, now: Any = None) -> bytes:
    """The documented serializer (MarketAvailabilityOutput) over the same postings as model
    instances of market_availabilities (which annotates the band and the poster), in the rows' order."""
    ids = [row["id"] for row in rows]
    instances = {a.pk: a for a in market.market_availabilities(viewer, now=now).filter(pk__in=ids)}
    data = MarketAvailabilityOutput([instances[pk] for pk in ids], many=True).data
    return OrjsonRenderer().render({"results": data})


def assert_same_page(got: list[market.MarketPageRow], expected: list[dict[str, Any]], *context: Any) -> None:
    """The statement's page is the ORM's: the same positions, and byte for byte the JSON DRF
    writes for those rows."""
    assert [row.created_at for row in got] == [str(row["created_at"]) for row in expected], context
    assert page_json(got) == drf_json(expected), context
