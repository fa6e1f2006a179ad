from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from backups import services as backup_services
from backups.models import Backup, ScratchCopy, Upgrade
from deployments import accessory_services
from deployments.models import AccessoryLink, App, EnvVar, Release, ReleaseStatus, Webhook
from deployments.models import Role as AppRole
from monitoring import services as monitoring_services
from monitoring.models import Alert, AlertRule, UptimeCheck
from panel import invitation_services
from panel.api import tokens
from panel.audit import Actor
from panel.models import ApiToken, Invitation, Job, Membership, Role, Team
from runbooks.models import Runbook
from servers import keys
from servers.models import HostKeyState, MemberKey, Server, ServerAccess, SshKey

IN_CI = bool(os.environ.get("CI"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class Crew:
    """Named users and their teams, the way every view test needs them."""

    def __init__(self) -> None:
        self.team = Team.objects.create(name="Acme", slug="acme")
        self.other_team = Team.objects.create(name="Globex", slug="globex")
        self.owner = self._member("olivia", self.team, Role.OWNER)
        self.admin = self._member("adam", self.team, Role.ADMIN)
        self.deployer = self._member("dora", self.team, Role.DEPLOYER)
        self.viewer = self._member("victor", self.team, Role.VIEWER)
        self.outsider = self._member("oscar", self.other_team, Role.OWNER)

    def _member(self, username: str, team: Team, role: str) -> User:
        user = User.objects.create_user(username, f"{username}@example.com", "correct horse 42")
        Membership.objects.create(team=team, user=user, role=role)
        return user

    def by_role(self, role: str) -> User:
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.DEPLOYER: self.deployer,
            Role.VIEWER: self.viewer,
        }[Role(role)]

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user, ip="192.0.2.10")


@pytest.fixture
def crew(db: None) -> Crew:
    return Crew()


def new_server(crew: Crew, name: str = "web-1", host: str = "10.0.0.5") -> Server:
    """A server of the crew's team with a fresh key, its host key taken as trusted."""
    pair = keys.generate()
    key = SshKey.objects.create(
        team=crew.team,
        name=f"k-{name}",
        public_key=pair.public_key,
        fingerprint=pair.fingerprint,
        private_key=pair.private_key,
    )
    return Server.objects.create(
        team=crew.team,
        name=name,
        host=host,
        ssh_key=key,
        host_key_state=HostKeyState.TRUSTED,
        host_key=pair.public_key,
    )


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Unit tests first, then lab tests, then browser tests (Playwright holds an event loop).
    def stage(item: pytest.Item) -> int:
        if item.get_closest_marker("browser"):
            return 2
        return 1 if item.get_closest_marker("lab") else 0

    items.sort(key=stage)


@pytest.fixture(scope="session")
def lab() -> Iterator[object]:
    """The running lab; brought up when missing and torn down after, if this run started it."""
    from tests.lab import lab as lab_module
    from tests.lab.proc import LabError

    if lab_module.is_up():
        yield lab_module.describe()
        return
    try:
        described = lab_module.up()
    except (LabError, OSError) as error:
        if IN_CI:
            pytest.fail(f"The lab could not start: {error}")
        pytest.skip(f"The lab could not start here: {error}")
    yield described
    lab_module.down()


@dataclass
class World:
    """One of every object a team can have, and the values that fill each address's
    placeholders: for the tests that walk every page and every API operation."""

    crew: Crew
    values: dict[str, str]
    token: str


@pytest.fixture
def world(crew: Crew) -> World:
    server = new_server(crew)
    key = server.ssh_key
    app = App.objects.create(
        team=crew.team, name="shop", image="registry.example.com/shop",
        git_url="https://git.example.com/acme/shop.git",
    )  # fmt: skip
    webhook = Webhook.objects.create(team=crew.team, app=app, provider="github", secret="s" * 20)
    AppRole.objects.create(app=app, name="web").servers.set([server])
    env = EnvVar.objects.create(team=crew.team, app=app, key="MODE", value="production")
    job = Job.objects.create(kind="app.deploy", team=crew.team, actor_label="olivia")
    release = Release.objects.create(
        app=app, version="v1", image="registry.example.com/shop:v1", status=ReleaseStatus.RETIRED
    )
    secret = tokens.create(Actor.for_user(crew.owner), crew.owner, "ci", "admin", None)
    accessory = accessory_services.create_accessory(
        Actor.for_user(crew.owner), crew.team, name="db", server=server, kind="postgres"
    )
    link = AccessoryLink.objects.create(
        team=crew.team, accessory=accessory, app=app, variable="DATABASE_URL", database="shop",
        user="shop", password="x" * 32,
    )  # fmt: skip
    repository = backup_services.create_repository(
        Actor.for_user(crew.owner), crew.team, name="disk", kind="local", server=server,
        folder="/srv/backups",
    )  # fmt: skip
    backup = Backup.objects.create(
        team=crew.team, repository=repository, accessory=accessory, succeeded=True,
        snapshot_id="a" * 64,
    )  # fmt: skip
    policy = backup_services.create_policy(
        Actor.for_user(crew.owner), accessory, schedule="0 3 * * *", repositories=[repository],
        keep={"keep_last": 7, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    )  # fmt: skip
    copy = ScratchCopy.objects.create(
        team=crew.team, accessory=accessory, backup=backup, container="db-scratch"
    )
    upgrade = Upgrade.objects.create(
        team=crew.team, accessory=accessory, from_image="postgres:15", to_image="postgres:17",
        status="upgraded", kept_volume="panel-accessory-db-data-pg15",
    )  # fmt: skip
    alert = Alert.objects.create(
        team=crew.team, kind="disk", server=server, subject="/", title="web-1: / is 95 % full",
        opened_at=timezone.now(),
    )  # fmt: skip
    channel = monitoring_services.create_channel(
        Actor.for_user(crew.owner), crew.team, name="ops", url="json://hooks.example.com/h",
        kinds=[],
    )  # fmt: skip
    check = UptimeCheck.objects.create(team=crew.team, url="https://status.example.com/")
    rule = AlertRule.objects.create(team=crew.team, kind="cpu", threshold=95, minutes=5)
    member_key = MemberKey.objects.create(user=crew.owner, name="laptop", public_key=key.public_key,
                                          fingerprint=key.fingerprint)  # fmt: skip
    access = ServerAccess.objects.create(team=crew.team, server=server, user=crew.viewer,
                                         login="deploy")  # fmt: skip
    runbook = Runbook.objects.create(team=crew.team, name="drill", steps="- wait: 1")
    _, invitation_link = invitation_services.invite(
        Actor.for_user(crew.owner), crew.team, "new@example.com", "viewer"
    )
    values = {
        "runbook_id": str(runbook.pk),
        "webhook_id": str(webhook.pk),
        "token": invitation_link.rsplit("/", 1)[1],
        "invitation_id": str(Invitation.objects.get().pk),
        "member_key_id": str(member_key.pk),
        "access_id": str(access.pk),
        "rule_id": str(rule.pk),
        "check_id": str(check.pk),
        "alert_id": str(alert.pk),
        "channel_id": str(channel.pk),
        "server_id": str(server.pk),
        "key_id": str(key.pk),
        "app_id": str(app.pk),
        "env_id": str(env.pk),
        "release_id": str(release.pk),
        "job_id": str(job.pk),
        "user_id": str(crew.viewer.pk),
        "token_id": str(ApiToken.objects.get().pk),
        "role": "web",
        "key": "MODE",
        "username": crew.viewer.username,
        "action": "restart",
        "name": "shop",
        "fmt": "csv",
        "uidb64": "MQ",
        "id": str(job.pk),
        "accessory_id": str(accessory.pk),
        "link_id": str(link.pk),
        "backup_id": str(backup.pk),
        "policy_id": str(policy.pk),
        "copy_id": str(copy.pk),
        "repository_id": str(repository.pk),
        "upgrade_id": str(upgrade.pk),
    }
    return World(crew, values, secret)
