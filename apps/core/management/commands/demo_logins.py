from typing import Any

from django.core.management.base import BaseCommand

from apps.core.seeding import demo_logins, format_demo_logins


class Command(BaseCommand):
    help = "Print the demo logins seed_demo created (read from the database; run seed_demo first)."

    def handle(self, *args: Any, **options: Any) -> None:
        lines = format_demo_logins(demo_logins())
        if not lines:
            self.stdout.write("No demo logins yet: run `python manage.py seed_demo`.")
        for line in lines:
            self.stdout.write(line)
