from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.seeding import SeedReport, seeders


class Command(BaseCommand):
    help = "Load the reference data (commodities, units, terms, gazetteer locations). Safe in production; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        report = SeedReport()
        with transaction.atomic():
            for name, seeder in seeders(masters_only=True):
                seeder(report)
                self.stdout.write(f"seeded: {name}")
        for line in report.lines:
            self.stdout.write(line)
