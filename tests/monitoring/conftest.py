from __future__ import annotations

from tests.deployments.conftest import make_app, web_servers  # noqa: F401
from tests.servers.conftest import lab_servers  # noqa: F401
