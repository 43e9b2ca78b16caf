"""What the planner knows about the market's quality filters (issue 15).

A quality range filter (`quality.staple_length.min=29`) compares `tradedesk_quality_number(quality,
'staple_length')`: an IMMUTABLE SQL function (migration 0004) reading one parameter's value out of
the availability's `quality` as a number (NULL when absent or not a plain decimal, e.g. a grade
under the same code in another commodity). Without statistics on that expression PostgreSQL
guessed a fixed selectivity (115 rows where 10,059 matched at 50,000 offers) and chose a seq scan
and a sort; with them it finds the page by walking the newest-first index.

So every NUMERIC quality parameter code has one extended statistics object on that expression
(`CREATE STATISTICS tradedesk_q_<code> ON (tradedesk_quality_number(quality, '<code>')) FROM
tradedesk_availability`), kept in step with the parameters by `sync_quality_statistics`: from the
migration that introduced them and from the handler of `commodities.parameter.changed` (a
parameter created, activated or deactivated; codes and kinds never change). Codes are shared
across commodities (one object per code). A new object is filled by ANALYZE, run here at once.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from apps.commodities.models import ParameterKind, QualityParameter
from apps.events.envelope import EventEnvelope

FUNCTION = "tradedesk_quality_number"
PREFIX = "tradedesk_q_"
TABLE = "tradedesk_availability"


def statistics_name(code: str) -> str:
    return f"{PREFIX}{code}"


def wanted_codes(parameter_model: Any = QualityParameter) -> set[str]:
    """`parameter_model`: the historical model, from a migration."""
    rows = parameter_model.objects.filter(kind=ParameterKind.NUMERIC, is_active=True)
    return set(rows.values_list("code", flat=True))


def existing_codes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = %s::regclass AND stxname LIKE %s",
            [TABLE, PREFIX.replace("_", r"\_") + "%"],
        )
        return {name.removeprefix(PREFIX) for (name,) in cursor.fetchall()}


def sync_quality_statistics(*, analyze: bool = True, parameter_model: Any = QualityParameter) -> dict[str, list[str]]:
    """One statistics object per active NUMERIC parameter code, none for any other; ANALYZE the
    table when one was created. Idempotent. Returns the codes created and dropped."""
    wanted, existing = wanted_codes(parameter_model), existing_codes()
    created, dropped = sorted(wanted - existing), sorted(existing - wanted)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for code in created:
            # Codes are snake_case by a check constraint; quoted all the same.
            literal = "'" + code.replace("'", "''") + "'"
            cursor.execute(
                f"CREATE STATISTICS IF NOT EXISTS {quote(statistics_name(code))} "
                f"ON ({FUNCTION}(quality, {literal})) FROM {TABLE}"
            )
        for code in dropped:
            cursor.execute(f"DROP STATISTICS IF EXISTS {quote(statistics_name(code))}")
        if created and analyze:
            cursor.execute(f"ANALYZE {TABLE}")
    return {"created": created, "dropped": dropped}


def on_parameter_changed(envelope: EventEnvelope) -> None:
    sync_quality_statistics()


def register_handlers() -> None:
    from apps.events.registry import register_handler

    register_handler("commodities.parameter.changed", on_parameter_changed, name="tradedesk.quality_statistics")
