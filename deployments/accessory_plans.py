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
START = "Start and wait until ready"
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


def plan_boot(spec: AccessorySpec) -> Plan:
    """Fetch the image, write the variables (and config) 0600, start, wait until ready."""
    return Plan((_image(spec), _files(spec), _start(spec)))


def plan_reboot(spec: AccessorySpec) -> Plan:
    """Recreate on the same volumes: the data stays, the variables are written again."""
    stop = Run(spec.host, tuple(accessories.remove(spec.name)), "remove the old container")
    return Plan((_image(spec), Phase("Stop", (lane(stop),)), _files(spec), _start(spec)))


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
        names = [mount.split(":", 1)[0] for mount in spec.volumes if not mount.startswith("/")]
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
        steps.append(
            Put(
                spec.host,
                accessories.config_file(spec.name),
                0o600,
                CONFIG_CONTENT,
                ("its settings and password",),
                "its config file",
            )
        )
    return Phase("Files", (tuple(steps),))


def _start(spec: AccessorySpec) -> Phase:
    config = (
        (posixpath.join(spec.home, accessories.config_file(spec.name)), spec.config_path)
        if spec.config_path
        else None
    )
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
                config=config,
            )
        ),
        "start",
    )
    ask = tuple(accessories.ask(spec.name, list(spec.env_names), list(spec.ready)))
    container = accessories.container(spec.name)
    wait = WaitFor(spec.host, ask, container, spec.ready_timeout) if spec.ready else None
    return Phase(START, (lane(run, wait),))
