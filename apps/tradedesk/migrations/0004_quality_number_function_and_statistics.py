"""The market's quality filters read `tradedesk_quality_number(quality, code)`, and every NUMERIC
quality parameter code gets extended statistics on it (apps/tradedesk/quality_statistics.py)."""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION tradedesk_quality_number(quality jsonb, code text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN quality ->> code ~ '^-?[0-9]+(\.[0-9]+)?$' THEN round((quality ->> code)::numeric, 8) END
$$
"""


def create_statistics(apps, schema_editor):
    from apps.tradedesk.quality_statistics import sync_quality_statistics

    sync_quality_statistics(parameter_model=apps.get_model("commodities", "QualityParameter"))


def drop_statistics(apps, schema_editor):
    from apps.tradedesk.quality_statistics import existing_codes, statistics_name

    quote = schema_editor.connection.ops.quote_name
    for code in existing_codes():
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {quote(statistics_name(code))}")


class Migration(migrations.Migration):
    dependencies = [
        ("commodities", "0001_initial"),
        ("tradedesk", "0003_reservation_owner"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS tradedesk_quality_number(jsonb, text)"),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
