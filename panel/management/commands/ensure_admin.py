from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from panel import first_run, teams
from panel.audit import Actor


class Command(BaseCommand):
    help = (
        "Create the first admin and team when there is no user yet (once the database's "
        "migrations are applied); print its password once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--team", default="Default")
        parser.add_argument("--timeout", type=float, default=180,
                            help="seconds to wait for the migrations")  # fmt: skip

    def handle(self, *args: Any, username: str, team: str, timeout: float, **options: Any) -> None:
        if first_run.wait_for(first_run.schema_missing, timeout, self.stdout.write):
            raise CommandError(
                "The database's schema is still not current: start the web server, which "
                "applies the migrations (`docker compose up -d`), or run `manage.py migrate`."
            )
        with transaction.atomic():
            if User.objects.exists():
                self.stdout.write("An account exists already; nothing to do.")
                return
            password = secrets.token_urlsafe(18)
            user = User.objects.create_superuser(username=username, email="", password=password)
            teams.create_team(Actor.system("setup"), name=team, slug=team.lower(), owner=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nFirst admin created.\n  user:     {username}\n  password: {password}\n"
                "This password is shown once; change it after signing in.\n"
            )
        )
