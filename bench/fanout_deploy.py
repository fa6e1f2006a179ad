"""The same app deployed to one lab host vs to every lab host: how much longer the fan-out
takes (the steps run on the servers in parallel)."""

from __future__ import annotations

import statistics

from bench.panel_env import deploy, lab_fixture, make_app, remove_app, setup_django

RUNS = 5


def main() -> None:
    setup_django()
    fixture = lab_fixture()
    one = make_app(fixture, "fanone", fixture.servers[:1], deploy_timeout=30)
    every = make_app(fixture, "fanall", fixture.servers, deploy_timeout=30)
    deploy(one, "v1")
    deploy(every, "v1")
    one_times, every_times = [], []
    for index in range(RUNS):
        version = "v2" if index % 2 == 0 else "v1"
        one_times.append(deploy(one, version))
        every_times.append(deploy(every, version))
    remove_app(one, fixture.servers[:1])
    remove_app(every, fixture.servers)
    hosts = len(fixture.servers)
    print(f"1 host runs: {', '.join(f'{t:.2f}' for t in one_times)} s")
    print(f"{hosts} hosts runs: {', '.join(f'{t:.2f}' for t in every_times)} s")
    print(f"hosts: {hosts}")
    print(f"ratio: {statistics.median(every_times) / statistics.median(one_times):.2f}")


if __name__ == "__main__":
    main()
