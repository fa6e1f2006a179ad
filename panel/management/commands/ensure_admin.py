from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from panel import teams
from panel.audit import Actor


class Command(BaseCommand):
    help = "Create the first admin and team when there is no user yet; print a one-time password."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--team", default="Default")

    def handle(self, *args: Any, username: str, team: str, **options: Any) -> None:
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
