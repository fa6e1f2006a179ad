from __future__ import annotations

import pytest

from servers.models import Server
from tests.backups.lab_backups import database  # noqa: F401
from tests.conftest import Crew, new_server
from tests.deployments.conftest import web_servers  # noqa: F401


@pytest.fixture
def server(crew: Crew) -> Server:
    return new_server(crew)
