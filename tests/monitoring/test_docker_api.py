"""Docker's API answers read into the lines of the CLI path: which containers are inspected,
what a container left uninspected keeps from the round before, the running ones' processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from monitoring import docker_api
from servers.docker_values import socket_path

LISTED: list[dict[str, Any]] = [
    {"Id": "a1", "Names": ["/shop-web-v2"], "State": "running", "Labels": {"panel.app": "shop"}},
    {"Id": "b2", "Names": ["/shop-web-v1"], "State": "exited", "Labels": {"panel.app": "shop"}},
    {"Id": "c3", "Names": ["/db"], "State": "exited", "Labels": None},
]
BEFORE: dict[str, dict[str, Any]] = {
    "shop-web-v1": {"state": "exited", "restarts": 2, "started_at": "2026-11-20T10:00:00Z"},
    "db": {"state": "running", "restarts": 0, "started_at": "2026-11-21T10:00:00Z"},
}
INSPECTED: dict[str, dict[str, Any]] = {
    "a1": {"Id": "a1", "RestartCount": 4, "Config": {"Labels": {"panel.app": "shop"}},
           "State": {"Status": "running", "Pid": 4242, "StartedAt": "2026-11-23T05:00:00Z",
                     "Health": {"Status": "unhealthy"}}},
    "c3": {"Id": "c3", "RestartCount": 1, "Config": {"Labels": {"panel.accessory": "db"}},
           "State": {"Status": "exited", "Pid": 0, "StartedAt": "2026-11-22T09:00:00Z"}},
}  # fmt: skip


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_only_containers_that_may_have_changed_are_inspected() -> None:
    assert [c["Id"] for c in docker_api.to_inspect(LISTED, BEFORE, NOW)] == ["a1", "c3"]
    assert [c["Id"] for c in docker_api.to_inspect(LISTED, {}, NOW)] == ["a1", "b2", "c3"]


def test_a_running_container_is_asked_again_only_when_young_or_restarted() -> None:
    known = {"web": {"state": "running", "restarts": 1, "started_at": "2026-11-23T09:00:00Z",
                     "pid": 42}}  # fmt: skip

    def asked(status: str) -> bool:
        listed = [{"Id": "w", "Names": ["/web"], "State": "running", "Status": status}]
        return bool(docker_api.to_inspect(listed, known, NOW))

    assert not asked("Up 3 hours (healthy)")  # up since 09:00: three hours
    assert not asked("Up 2 hours")  # rounded down: 2 hours stand for up to 3
    assert asked("Up 12 minutes")  # it restarted since
    assert asked("Up 40 seconds")  # young: every round
    assert asked("Up Less than a second")
    assert asked("Restarting (1) 2 seconds ago")  # not the state the round before saw
    assert asked("Up 3 hours") is False
    assert docker_api.to_inspect(
        [{"Id": "w", "Names": ["/web"], "State": "running", "Status": "Up 3 hours"}],
        {"web": {**known["web"], "pid": 0}}, NOW,
    )  # fmt: skip


def test_the_lines_are_those_the_cli_prints() -> None:
    lines = docker_api.lines(LISTED, INSPECTED, BEFORE)
    listed = [{"Id": "w", "Names": ["/web"], "State": "running", "Status": "Up 3 hours (unhealthy)",
               "Labels": {"panel.app": "shop"}}]  # fmt: skip
    known = {"web": {"state": "running", "restarts": 1, "started_at": "2026-11-23T09:00:00Z",
                     "pid": 42}}  # fmt: skip
    assert docker_api.lines(listed, {}, known) == [
        "web|running|1|unhealthy|shop||2026-11-23T09:00:00Z|42"
    ]
    assert lines == [
        "shop-web-v2|running|4|unhealthy|shop||2026-11-23T05:00:00Z|4242",
        "shop-web-v1|exited|2||shop||2026-11-20T10:00:00Z|0",
        "db|exited|1|||db|2026-11-22T09:00:00Z|0",
    ]
    assert docker_api.pids(lines) == [4242]


def test_only_a_unix_docker_host_is_asked_through_ssh() -> None:
    assert socket_path("unix:///var/run/docker.sock") == "/var/run/docker.sock"
    assert socket_path("tcp://10.0.0.2:2375") == ""
    assert socket_path("unix://relative.sock") == ""
    assert docker_api.listing(json.dumps(LISTED).encode()) == LISTED
    with pytest.raises(ValueError, match="not a list"):
        docker_api.listing(b'{"message": "page not found"}')
