from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from deployments import kamal_forms, kamal_services
from deployments.kamal.loading import KamalError
from panel.audit import Actor
from panel.models import Team
from servers.models import SshKey


class Command(BaseCommand):
    help = (
        "Import an app from a Kamal 2 config/deploy.yml. With --dry-run nothing is created "
        "and the review is printed as JSON (mapped, different, unsupported, secrets)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="config/deploy.yml")
        parser.add_argument("--destination", default="", help="merge config/deploy.NAME.yml")
        parser.add_argument("--team", required=True, help="the team's slug")
        parser.add_argument("--secrets", default="", help="a dotenv file of the secrets' values")
        parser.add_argument("--ssh-key", default="", help="for new servers; default: the only one")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        destination = ""
        if options["destination"]:
            destination = _text(path.with_name(f"deploy.{options['destination']}.yml"))
        secrets = _text(Path(options["secrets"])) if options["secrets"] else ""
        try:
            plan, values = kamal_forms.read(_text(path), destination, secrets)
        except KamalError as refused:
            raise CommandError(f"{path}: {refused}") from refused
        if options["dry_run"]:
            self.stdout.write(json.dumps(plan.review.as_json(), indent=2))
            return
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team {options['team']!r}.")
        keys = SshKey.objects.filter(team=team)
        key = keys.filter(name=options["ssh_key"]).first() if options["ssh_key"] else None
        key = key or (keys.first() if keys.count() == 1 else None)
        try:
            plan, fields, roles = kamal_forms.check(team, plan, values, key)
        except kamal_forms.ImportRefused as refused:
            raise CommandError("\n".join(refused.problems)) from refused
        app = kamal_services.import_app(
            Actor.system("import_kamal"), team, plan, fields=fields, roles=roles, secrets=values,
            ssh_key=key,  # type: ignore[arg-type]
        )  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"{app.name} is imported into {team.slug}."))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as failure:
        raise CommandError(f"{path}: {failure}") from failure
