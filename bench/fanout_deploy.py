"""The same app deployed to one lab host vs to every lab host, by the panel (whose steps run
on the servers in parallel) and by a bare script run on every host at once: the bare script's
own ratio is what the machine allows (several dockerds share its two cores), so the panel's
ratio is compared with it."""

from __future__ import annotations

import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.deploy_overhead import add_bare_route, bare_deploy, known_hosts_file
from bench.panel_env import Fixture, deploy, lab_fixture, make_app, remove_app, setup_django

RUNS = 5


def main() -> None:
    setup_django()
    fixture = lab_fixture()
    one = make_app(fixture, "fanone", fixture.servers[:1], deploy_timeout=30)
    every = make_app(fixture, "fanall", fixture.servers, deploy_timeout=30)
    deploy(one, "v1")
    deploy(every, "v1")
    hosts = len(fixture.servers)
    for index in range(hosts):
        add_bare_route(fixture, index)
    one_times, every_times, bare_one, bare_every = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        known_hosts = known_hosts_file(fixture, Path(scratch))
        old = _bare_everywhere(fixture, known_hosts, "v1", ["" for _ in range(hosts)])[1]
        for index in range(RUNS):
            version = "v2" if index % 2 == 0 else "v1"
            one_times.append(deploy(one, version))
            every_times.append(deploy(every, version))
            took, old[0] = bare_deploy(fixture, known_hosts, version, old[0])
            bare_one.append(took)
            took_all, old = _bare_everywhere(fixture, known_hosts, version, old)
            bare_every.append(took_all)
    remove_app(one, fixture.servers[:1])
    remove_app(every, fixture.servers)
    panel_ratio = statistics.median(every_times) / statistics.median(one_times)
    bare_ratio = statistics.median(bare_every) / statistics.median(bare_one)
    print(f"panel 1 host runs: {', '.join(f'{t:.2f}' for t in one_times)} s")
    print(f"panel {hosts} hosts runs: {', '.join(f'{t:.2f}' for t in every_times)} s")
    print(f"bare 1 host runs: {', '.join(f'{t:.2f}' for t in bare_one)} s")
    print(f"bare {hosts} hosts runs: {', '.join(f'{t:.2f}' for t in bare_every)} s")
    print(f"bare ratio: {bare_ratio:.2f}")
    print(f"hosts: {hosts}")
    print(f"ratio: {panel_ratio:.2f}")
    print(f"vs bare: {panel_ratio / bare_ratio:.2f}")


def _bare_everywhere(
    fixture: Fixture, known_hosts: Path, version: str, old: list[str]
) -> tuple[float, list[str]]:
    """The bare script on every host at once; the time until the last one is done."""
    with ThreadPoolExecutor(len(old)) as pool:
        results = list(
            pool.map(
                lambda index: bare_deploy(fixture, known_hosts, version, old[index], index),
                range(len(old)),
            )
        )
    return max(took for took, _ in results), [name for _, name in results]


if __name__ == "__main__":
    main()
