"""Plans for accessories: pure, from an AccessorySpec to the steps a boot, reboot or removal
runs. The same steps and runner as deploys."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from deployments.commands import accessories, containers
from servers.commands import host as host_commands
from servers.plans import Host, Phase, Plan, Put, Run, Step, WaitFor, lane

ENV_CONTENT = "variables"
CONFIG_CONTENT = "config file"
LINK_STATEMENTS = "statements"
START = "Start and wait until ready"
DONE = "Remove the old container"
PULL_TIMEOUT = 900.0


@dataclass(frozen=True)
class AccessorySpec:
    name: str
    host: Host
    home: str  # the login's home on the server: Docker mounts absolute paths only
    image: str
    env_names: tuple[str, ...]
    volumes: tuple[str, ...]
    publish: tuple[str, ...]
    command: tuple[str, ...]
    ready: tuple[str, ...]  # the readiness question, asked inside the container
    ready_timeout: float
    config_path: str = ""  # where the engine reads its config file inside the container
    ready_port: int = 0  # without a question: ready once this port accepts connections
    owner: str = ""  # the accessory's id, labelled on its data volumes
    files: tuple[tuple[str, bool], ...] = ()  # paths inside given a file, and whether secret


def file_content(inside: str) -> str:
    """The name under which the runner is given a file's content."""
    return f"file {inside}"


def plan_boot(spec: AccessorySpec) -> Plan:
    """Fetch the image, write the variables (and config) 0600, start, wait until ready. A
    container already there is stopped and kept aside until the new one is ready (and comes
    back if not); a data volume left by an earlier accessory of the name is refused."""
    volumes = [_own_volume(spec, name) for name in _data_volumes(spec)]
    checks = Phase("Data volume", (lane(*volumes),)) if volumes else None
    aside = Run(spec.host, tuple(accessories.set_aside(spec.name)), "stop the old container")
    done = Run(spec.host, ("docker", "rm", "--force", accessories.previous(spec.name)), "remove")
    phases = (
        _image(spec),
        Phase("Stop", (lane(aside),)),
        _files(spec),
        _start(spec),
        Phase(DONE, (lane(done),)),
    )
    return Plan((checks, *phases) if checks else phases)


def plan_reboot(spec: AccessorySpec) -> Plan:
    """Recreate on the same volumes: the data stays, the variables are written again."""
    return plan_boot(spec)


def _data_volumes(spec: AccessorySpec) -> list[str]:
    return [mount.split(":", 1)[0] for mount in spec.volumes if not mount.startswith("/")]


def _own_volume(spec: AccessorySpec, volume: str) -> Run:
    argv = tuple(accessories.own_volume(volume, spec.owner))
    return Run(spec.host, argv, f"{volume}: this accessory's, or new")


def plan_container(host: Host, argv: list[str], title: str) -> Plan:
    """Start, stop or restart its container as it is."""
    return Plan((Phase(title.capitalize(), (lane(Run(host, tuple(argv), title)),)),))


def plan_ask(spec: AccessorySpec, client: tuple[str, ...], title: str, config: bool) -> Plan:
    """Statements (named, given on stdin) to the engine's client inside the container; with
    `config`, its config file is written again too (Redis keeps its users there)."""
    ask = tuple(accessories.ask(spec.name, list(spec.env_names), list(client), stdin=True))
    steps: list[Step] = [Run(spec.host, ask, title, stdin=LINK_STATEMENTS)]
    if config:
        steps.append(_config(spec))
    return Plan((Phase(title.capitalize(), (tuple(steps),)),))


def plan_exec(spec: AccessorySpec, command: tuple[str, ...]) -> Plan:
    argv = tuple(accessories.ask(spec.name, list(spec.env_names), list(command)))
    return Plan((Phase("Command", (lane(Run(spec.host, argv, "run", stream=True)),)),))


def plan_remove(spec: AccessorySpec, *, with_data: bool) -> Plan:
    """The container and its files; its volumes only when asked."""
    steps: list[Step] = [
        Run(spec.host, tuple(accessories.remove(spec.name)), "remove the container"),
        Run(
            spec.host,
            tuple(host_commands.remove_directory(accessories.folder(spec.name))),
            "remove its files",
        ),
    ]
    if with_data:
        names = _data_volumes(spec)
        steps += [
            Run(spec.host, ("docker", "volume", "rm", "--force", name), "remove the data")
            for name in names
        ]
    return Plan((Phase("Remove", (tuple(steps),)),))


def _image(spec: AccessorySpec) -> Phase:
    pull = Run(
        spec.host,
        tuple(containers.pull(spec.image)),
        "pull",
        timeout=PULL_TIMEOUT,
        unless=tuple(containers.image_id(spec.image)),
    )
    return Phase("Image", (lane(pull),))


def _files(spec: AccessorySpec) -> Phase:
    folder = accessories.folder(spec.name)
    steps: list[Step] = [
        Run(spec.host, tuple(host_commands.make_directory(folder)), "its folder"),
        Put(
            spec.host,
            accessories.env_file(spec.name),
            0o600,
            ENV_CONTENT,
            spec.env_names,
            "its variables",
        ),
    ]
    if spec.config_path:
        steps.append(_config(spec))
    for index, (inside, secret) in enumerate(spec.files):
        mode = 0o600 if secret else 0o644
        where = accessories.given_file(spec.name, index)
        steps.append(Put(spec.host, where, mode, file_content(inside), (inside,), inside))
    return Phase("Files", (tuple(steps),))


def _config(spec: AccessorySpec) -> Put:
    return Put(
        spec.host,
        accessories.config_file(spec.name),
        0o600,
        CONFIG_CONTENT,
        ("its settings and password",),
        "its config file",
    )


def _start(spec: AccessorySpec) -> Phase:
    read_only = [
        (posixpath.join(spec.home, accessories.given_file(spec.name, index)), inside)
        for index, (inside, _) in enumerate(spec.files)
    ]
    if spec.config_path:
        config = posixpath.join(spec.home, accessories.config_file(spec.name))
        read_only.append((config, spec.config_path))
    run = Run(
        spec.host,
        tuple(
            accessories.run(
                name=spec.name,
                image=spec.image,
                env_names=list(spec.env_names),
                volumes=list(spec.volumes),
                publish=list(spec.publish),
                command=list(spec.command),
                read_only=read_only,
            )
        ),
        "start",
    )
    ask = tuple(accessories.ask(spec.name, list(spec.env_names), list(spec.ready)))
    container = accessories.container(spec.name)
    wait = (
        WaitFor(spec.host, ask if spec.ready else (), container, spec.ready_timeout,
                port=spec.ready_port)
        if spec.ready or spec.ready_port
        else None
    )  # fmt: skip
    return Phase(START, (lane(run, wait),))
