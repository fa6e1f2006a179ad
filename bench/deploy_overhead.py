"""One deploy to one lab host: the panel (job start to end) vs a bare script doing the same
steps over one ssh connection (login, pull, run, health poll, proxy switch, drain, stop old).
Several runs each, alternating v1/v2; the ratio of the medians."""

from __future__ import annotations

import asyncio
import json
import secrets
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from bench.panel_env import (
    Fixture,
    deploy,
    lab_fixture,
    make_app,
    remove_app,
    report_against_bare,
    setup_django,
)

RUNS = 5
BARE_ROUTE = "bench-bare"
BARE_SCRIPT = r"""
set -e
image=$1; name=$2; old=$3; registry=$4; user=$5
printf '%s' "$REGISTRY_PASSWORD" |
  docker login --username "$user" --password-stdin "$registry" >/dev/null
docker pull --quiet "$image" >/dev/null
docker run --detach --name "$name" --network panel --restart unless-stopped "$image" >/dev/null
format='{{with index .NetworkSettings.Networks "panel"}}{{.IPAddress}}{{end}}'
ip=$(docker inspect --format "$format" "$name")
until curl -fsS -o /dev/null "http://$ip:80/up"; do sleep 0.2; done
curl -fsS -o /dev/null -X PATCH -H 'Content-Type: application/json' \
  -d "[{\"handler\":\"reverse_proxy\",\"upstreams\":[{\"dial\":\"$name:80\"}]}]" \
  "http://127.0.0.1:2019/id/bench-bare/handle"
sleep 1
if [ -n "$old" ]; then docker stop --time 2 "$old" >/dev/null; fi
"""


def bare_deploy(
    fixture: Fixture, known_hosts: Path, version: str, old: str, host_index: int = 0
) -> tuple[float, str]:
    lab, host = fixture.lab, fixture.lab.hosts[host_index]
    name = f"bare-{version}-{secrets.token_hex(3)}"
    image = lab.app_images[version]
    started = time.perf_counter()
    subprocess.run(
        [
            "ssh",
            "-i",
            str(host.client_key),
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            "BatchMode=yes",
            f"{host.user}@{host.address}",
            f"REGISTRY_PASSWORD={shlex.quote(lab.registry_password)} "
            + shlex.join(["sh", "-s", "--", image, name, old, lab.registry, lab.registry_user]),
        ],
        input=BARE_SCRIPT.encode(),
        check=True,
    )
    return time.perf_counter() - started, name


def known_hosts_file(fixture: Fixture, folder: Path) -> Path:
    known_hosts = folder / "known_hosts"
    known_hosts.write_text("".join(f"{h.address} {h.host_public_key}\n" for h in fixture.lab.hosts))
    return known_hosts


def add_bare_route(fixture: Fixture, server_index: int = 0) -> None:
    from servers.commands import proxy, routes
    from servers.proxy_api import admin
    from servers.targets import target_for

    target = target_for(fixture.servers[server_index])
    route = {
        "@id": BARE_ROUTE,
        "match": [{"host": ["bare.bench.test"]}],
        "handle": routes.maintenance_handler(),
        "terminal": True,
    }
    asyncio.run(admin(target, proxy.AdminRequest("DELETE", f"/id/{BARE_ROUTE}")))
    asyncio.run(
        admin(
            target,
            proxy.AdminRequest(
                "POST", "/config/apps/http/servers/panel/routes", json.dumps(route).encode()
            ),
        )
    )


def main() -> None:
    setup_django()
    fixture = lab_fixture()
    server = fixture.servers[0]
    app = make_app(fixture, "overhead", [server], deploy_timeout=30)
    add_bare_route(fixture)
    with tempfile.TemporaryDirectory() as scratch:
        known_hosts = known_hosts_file(fixture, Path(scratch))
        deploy(app, "v1")
        _, old = bare_deploy(fixture, known_hosts, "v1", "")
        panel_times, bare_times = [], []
        for index in range(RUNS):
            version = "v2" if index % 2 == 0 else "v1"
            panel_times.append(deploy(app, version))
            took, old_next = bare_deploy(fixture, known_hosts, version, old)
            bare_times.append(took)
            old = old_next
    remove_app(app, [server])
    report_against_bare(panel_times, bare_times)


if __name__ == "__main__":
    main()
