from __future__ import annotations

from tests.servers.conftest import lab_servers  # noqa: F401
