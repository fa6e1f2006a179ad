"""The deploy planner is pure: plain values in, the exact steps out."""

from __future__ import annotations

from dataclasses import replace

from deployments.planner import (
    BUILD,
    DRAIN,
    REGISTRY_PASSWORD,
    START_OTHERS,
    START_WEB,
    STOP_PREVIOUS,
    SWITCH,
    BuildSpec,
    DeploySpec,
    OneOff,
    Placement,
    plan_deploy,
    plan_remove,
    plan_start,
    plan_stop,
)
from servers.plans import Host, Pipe, PointRoute, Put, Route, Run, WaitHealthy

WEB1, WEB2, JOBS = Host(1, "web-1"), Host(2, "web-2"), Host(3, "jobs-1")
ROUTE = Route("abc", ("shop.example.com",))


def _spec(**changes: object) -> DeploySpec:
    spec = DeploySpec(
        app="shop",
        route=ROUTE,
        image="registry.example.com/shop:v2",
        version="v2",
        registry="registry.example.com",
        registry_user="ci",
        push=False,
        source=None,
        port=80,
        health_path="/up",
        health_interval=1.0,
        health_timeout=5.0,
        deploy_timeout=30.0,
        drain_timeout=5.0,
        stop_timeout=10,
        volumes=("data:/data",),
        placements=(
            Placement(WEB1, "web", True, (), ("DB",), "shop-web-v2-n1", ("shop-web-v1-old",)),
            Placement(WEB2, "web", True, (), ("DB",), "shop-web-v2-n1"),
            Placement(JOBS, "jobs", False, ("bin/jobs",), (), "shop-jobs-v2-n1"),
        ),
        nonce="n1",
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def test_phases_come_in_the_order_a_zero_downtime_deploy_needs() -> None:
    titles = [phase.title for phase in plan_deploy(_spec()).phases]
    assert titles == [START_WEB, START_OTHERS, SWITCH, DRAIN, STOP_PREVIOUS]


def test_each_web_server_pulls_starts_and_waits_in_its_own_lane() -> None:
    start = plan_deploy(_spec()).phase(START_WEB)
    assert start is not None and len(start.lanes) == 2
    first = start.lanes[0]
    assert isinstance(first[0], Run) and first[0].argv[:3] == ("docker", "login", "--username")
    assert first[0].stdin == REGISTRY_PASSWORD
    assert isinstance(first[1], Run) and first[1].argv[:2] == ("docker", "pull")
    env = next(step for step in first if isinstance(step, Put))
    assert (env.path, env.mode, env.holds) == (".panel/apps/shop/web.env", 0o600, ("DB",))
    run = next(step for step in first if isinstance(step, Run) and step.starts)
    assert run.starts is not None and run.starts.name == "shop-web-v2-n1"
    assert "--volume" in run.argv and "data:/data" in run.argv and "--env" in run.argv
    wait = first[-1]
    assert isinstance(wait, WaitHealthy) and (wait.path, wait.port) == ("/up", 80)


def test_no_login_without_a_password_and_copies_instead_of_pulls() -> None:
    plan = plan_deploy(_spec(registry="", registry_user="", source=WEB1))
    commands = plan.commands()
    assert not any("docker login" in line for line in commands)
    assert not any("docker pull" in line for line in commands)
    start = plan.phase(START_WEB)
    assert start is not None
    copy = start.lanes[1][0]
    assert isinstance(copy, Pipe) and copy.source == WEB1 and copy.host == WEB2
    assert copy.source_argv[:2] == ("docker", "save") and copy.argv[:2] == ("docker", "load")
    assert copy.unless[:3] == ("docker", "image", "inspect")


def test_only_the_proxied_role_is_switched_and_only_previous_containers_stop() -> None:
    plan = plan_deploy(_spec())
    switch = plan.phase(SWITCH)
    assert switch is not None
    steps = [step for lane in switch.lanes for step in lane]
    assert all(isinstance(step, PointRoute) for step in steps)
    assert [s.upstream for s in steps if isinstance(s, PointRoute)] == ["shop-web-v2-n1:80"] * 2
    stop = plan.phase(STOP_PREVIOUS)
    assert stop is not None
    assert [lane[0].argv[-1] for lane in stop.lanes if isinstance(lane[0], Run)] == [
        "shop-web-v1-old"
    ]


def test_a_first_deploy_has_nothing_to_drain_or_stop() -> None:
    fresh = tuple(replace(p, previous=()) for p in _spec().placements)
    titles = [phase.title for phase in plan_deploy(_spec(placements=fresh)).phases]
    assert DRAIN not in titles and STOP_PREVIOUS not in titles


def test_a_build_streams_the_archive_and_cleans_its_folder_whatever_happens() -> None:
    build = BuildSpec(WEB1, ("git", "archive", "abc"), "Dockerfile", ("LEVEL",), ("TOKEN",))
    plan = plan_deploy(_spec(build=build, source=WEB1, registry=""))
    phase = plan.phase(BUILD)
    assert phase is not None and phase.skip is not None
    assert phase.skip.argv[:3] == ("docker", "image", "inspect")
    pipe = next(step for step in phase.lanes[0] if isinstance(step, Pipe))
    assert pipe.source is None and pipe.source_argv == ("git", "archive", "abc")
    assert "--secret" in pipe.argv and "--build-arg" in pipe.argv
    assert [s.argv for s in phase.cleanup if isinstance(s, Run)] == [
        ("rm", "-rf", "--", ".panel/apps/shop/build")
    ]


def test_hooks_run_in_a_one_off_container_before_and_after() -> None:
    hook = OneOff(WEB1, "web", ("DB",), ("bin/migrate",))
    plan = plan_deploy(_spec(pre_deploy=hook, post_deploy=hook))
    assert plan.phases[0].title.startswith("Pre-deploy command")
    assert plan.phases[-1].title.startswith("Post-deploy command")
    run = plan.phases[0].lanes[0][-1]
    assert (
        isinstance(run, Run) and run.stream and "--rm" in run.argv and run.argv[-1] == "bin/migrate"
    )


def test_stop_shows_maintenance_before_stopping_and_start_switches_back() -> None:
    stop = plan_stop(_spec())
    web_lane = stop.phases[0].lanes[0]
    assert isinstance(web_lane[0], PointRoute) and web_lane[0].upstream == ""
    assert isinstance(web_lane[1], Run) and web_lane[1].argv[:2] == ("docker", "stop")
    start = plan_start(_spec())
    assert [phase.title for phase in start.phases] == ["Start the containers", SWITCH]


def test_removal_takes_the_route_the_containers_and_the_files() -> None:
    lane = plan_remove("shop", ROUTE, [WEB1]).phases[0].lanes[0]
    assert isinstance(lane[0], PointRoute) and lane[0].remove
    assert [s.argv for s in lane[1:] if isinstance(s, Run)] == [
        ("sh", "-c", 'docker ps --all --quiet --filter "label=$0=$1" | xargs -r docker rm --force',
         "panel.app", "shop"),
        ("rm", "-rf", "--", ".panel/apps/shop"),
    ]  # fmt: skip
