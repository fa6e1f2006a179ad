"""PostgreSQL booted to ready on one lab host, from nothing (a new data volume, so the engine
makes its cluster each time): the panel's boot job (job start to end) vs a bare script doing
the same over one ssh connection (a 0600 env file, `docker run`, `pg_isready` polled every
half second, as the panel polls). Several runs each, alternating; the ratio of the medians."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from bench.deploy_overhead import known_hosts_file
from bench.panel_env import Fixture, lab_fixture, report_against_bare, setup_django

RUNS = 5
BARE_NAME = "bench-bare-pg"
BARE_SCRIPT = r"""
set -e
image=$1; name=$2
umask 077
printf "POSTGRES_PASSWORD=%s\n" "$PG_PASSWORD" > "$HOME/$name.env"
docker run --detach --name "$name" --network panel --restart unless-stopped \
  --env-file "$HOME/$name.env" --volume "$name-data:/var/lib/postgresql/data" "$image" >/dev/null
until docker exec "$name" pg_isready --quiet --host 127.0.0.1 --username postgres; do
  sleep 0.5
done
"""


def bare_boot(fixture: Fixture, known_hosts: Path, image: str) -> float:
    host = fixture.lab.hosts[0]
    ssh = ["ssh", "-i", str(host.client_key), "-o", f"UserKnownHostsFile={known_hosts}",
           "-o", "BatchMode=yes", f"{host.user}@{host.address}"]  # fmt: skip
    clean = f"docker rm -f {BARE_NAME} >/dev/null 2>&1; docker volume rm -f {BARE_NAME}-data"
    subprocess.run([*ssh, clean], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [*ssh, "PG_PASSWORD=bench-password-1 " + shlex.join(["sh", "-s", "--", image, BARE_NAME])],
        input=BARE_SCRIPT.encode(),
        check=True,
    )
    return time.perf_counter() - started


def panel_boot(fixture: Fixture, image: str, run: int) -> float:
    from deployments import accessory_services
    from deployments.commands import accessories
    from deployments.operations import accessories as operations
    from panel.audit import Actor
    from panel.jobs.runner import run_job
    from servers import ssh
    from servers.targets import target_for

    server = fixture.servers[0]
    name = f"benchpg{run}"
    target = target_for(server)
    for argv in (
        accessories.remove(name),
        ["docker", "volume", "rm", "-f", accessories.volume(name)],
    ):
        asyncio.run(ssh.run(target, argv, check=False))
    accessory = accessory_services.create_accessory(
        Actor.system(), fixture.team, name=name, server=server, kind="postgres", image=image
    )
    job = accessory_services.start_accessory_job(Actor.system(), accessory, "boot")
    if run_job(job.pk, operations.boot) != "succeeded":
        job.refresh_from_db()
        raise SystemExit(f"boot failed: {job.error}")
    job.refresh_from_db()
    asyncio.run(ssh.run(target, accessories.remove(name), check=False))
    asyncio.run(ssh.run(target, ["docker", "volume", "rm", "-f", accessories.volume(name)]))
    return job.duration_seconds or 0.0


def main() -> None:
    setup_django()
    from tests.lab.images import load_into, service_image

    fixture = lab_fixture()
    image = service_image("postgres")
    load_into(fixture.lab.hosts[0].spec, image)
    with tempfile.TemporaryDirectory() as scratch:
        known_hosts = known_hosts_file(fixture, Path(scratch))
        panel_times, bare_times = [], []
        for run in range(RUNS):
            panel_times.append(panel_boot(fixture, image, run))
            bare_times.append(bare_boot(fixture, known_hosts, image))
    report_against_bare(panel_times, bare_times)


if __name__ == "__main__":
    main()
