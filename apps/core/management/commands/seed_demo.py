from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.seeding import SeedReport, seeders


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo data of every app. Safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        report = SeedReport()
        with transaction.atomic():
            for name, seeder in seeders():
                seeder(report)
                self.stdout.write(f"seeded: {name}")
        for line in report.lines:
            self.stdout.write(line)
        if report.logins:
            self.stdout.write("\nDemo logins")
            width = max(len(who) for who, _, _ in report.logins)
            for who, login, secret in report.logins:
                self.stdout.write(f"  {who.ljust(width)}  {login}  {secret}")
