from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from panel.audit import Actor
from panel.models import Membership, Role, Team
from servers import keys
from servers.models import HostKeyState, Server, SshKey

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
