from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.seeding import SeedReport, demo_logins, format_demo_logins, seeders


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo data of every app. Safe to run repeatedly."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-logins", dest="logins", action="store_false", help="Do not print the demo logins (see demo_logins)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = SeedReport()
        with transaction.atomic():
            for name, seeder in seeders():
                seeder(report)
                self.stdout.write(f"seeded: {name}")
        for line in report.lines:
            self.stdout.write(line)
        if options["logins"]:
            for line in ["", *format_demo_logins(demo_logins())]:
                self.stdout.write(line)
