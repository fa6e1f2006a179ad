"""The Debian lab host: a container of this machine's Docker Engine running sshd, with its
own apt state (it sees only the lab's apt repository) and its own network stack, so OS
upgrades, reboots and firewall rules are real and never touch the machine the tests run on.
Its "reboot" ends the container's first process; Docker starts it again, the connection
drops and returns, with a new boot id.

It sits on a network of its own (`10.213.8.0/24`), routed to the lab hosts' bridge."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from tests.lab import apt_repo, images
from tests.lab.config import BRIDGE, STATE_DIR
from tests.lab.hosts import client_key
from tests.lab.proc import ok, sh, wait_for

NAME = "deb1"
IMAGE = "panel-lab/debhost:latest"
NETWORK, NETWORK_BRIDGE = "panellab-deb", "panellabdeb"
SUBNET, ADDRESS = "10.213.8.0/24", "10.213.8.10"
SUDO_USER, PLAIN_USER = "panel", "plain"  # passwordless sudo; no sudo at all
HOST_KEY = STATE_DIR / NAME / "ssh_host_ed25519_key"  # one for all: they are copies


@dataclass(frozen=True)
class DebianHost:
    name: str
    address: str
    port: int
    user: str
    plain_user: str
    client_key: Path
    host_public_key: str


def up() -> DebianHost:
    build()
    _up_network()
    if not _running(NAME):
        start()
    return describe()


def container(name: str) -> str:
    return f"panel-lab-{name}"


def address_of(index: int) -> str:
    """deb1 at .10; more copies (for benchmarks) after it."""
    return f"10.213.8.{9 + index}"


def build() -> None:
    repo = apt_repo.build()
    images.build(IMAGE, images.HERE / "debhost", {"DEMO": apt_repo.OLD},
                 {"panel-demo.deb": repo / "pool" / apt_repo.deb_name(apt_repo.OLD)})  # fmt: skip


def start(index: int = 1, *, docker: bool = False) -> DebianHost:
    """A fresh host from the image: the demo package at its old version, nothing pending;
    with `docker`, its own Docker Engine too (a published port to firewall)."""
    name, address = f"deb{index}", address_of(index)
    sh("docker", "rm", "--force", container(name), check=False)
    HOST_KEY.parent.mkdir(parents=True, exist_ok=True)
    if not HOST_KEY.exists():
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", NAME, "-f", str(HOST_KEY))
    sh("docker", "run", "--detach", "--name", container(name), "--hostname", name,
       # Not --privileged: this machine may lack a capability that asks for. Its own network
       # rules (NET_ADMIN) and its boot id (a bind mount, SYS_ADMIN) are all it needs.
       "--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN", "--security-opt", "apparmor=unconfined",
       "--restart", "unless-stopped", "--network", NETWORK, "--ip", address, "--tmpfs", "/run",
       "--volume", f"{apt_repo.REPO}:/srv/lab-apt:ro",
       "--volume", f"{client_key()}.pub:/lab/authorized_keys:ro",
       "--volume", f"{HOST_KEY}:/etc/ssh/ssh_host_ed25519_key:ro",
       "--volume", f"{HOST_KEY}.pub:/etc/ssh/ssh_host_ed25519_key.pub:ro",
       *(_ENGINE if docker else ()), IMAGE)  # fmt: skip
    wait_for(lambda: answers(address), f"sshd on {name}", 30)
    if docker:
        wait_for(lambda: ok("docker", "exec", container(name), "docker", "info"),
                 f"Docker Engine on {name}", 60)  # fmt: skip
    return describe(index)


# An engine inside needs the cgroup tree (its containers go under the host's own group), a
# data root that allows exec, and no seccomp filter of ours in its way.
_ENGINE = (
    "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns", "host",
    "--tmpfs", "/var/lib/docker:exec", "--security-opt", "seccomp=unconfined",
    "--volume", "/dev/null:/lab/docker:ro",
)  # fmt: skip


def load_image(index: int, image: str) -> None:
    """Hand an image of this machine's engine to the host's own engine (no registry)."""
    saved = sh("docker", "save", image).stdout
    sh("docker", "exec", "-i", container(f"deb{index}"), "docker", "load", input=saved)


def remove(index: int) -> None:
    sh("docker", "rm", "--force", container(f"deb{index}"), check=False)


def down() -> None:
    remove(1)
    for rule in _forwarding("-D"):
        sh("iptables", *rule, check=False)


def is_up() -> bool:
    return _running(NAME) and answers(ADDRESS)


def answers(address: str) -> bool:
    """Its sshd greets (a refused or silent port is not up yet)."""
    try:
        with socket.create_connection((address, 22), timeout=1) as connection:
            return connection.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def describe(index: int = 1) -> DebianHost:
    return DebianHost(
        name=f"deb{index}",
        address=address_of(index),
        port=22,
        user=SUDO_USER,
        plain_user=PLAIN_USER,
        client_key=client_key(),
        host_public_key=Path(f"{HOST_KEY}.pub").read_text().strip(),
    )


def _running(name: str) -> bool:
    state = sh("docker", "inspect", "--format", "{{.State.Running}}", container(name), check=False)
    return state.stdout.strip() == b"true"


def _up_network() -> None:
    if not ok("docker", "network", "inspect", NETWORK):
        sh("docker", "network", "create", "--subnet", SUBNET, "--opt",
           f"com.docker.network.bridge.name={NETWORK_BRIDGE}", NETWORK)  # fmt: skip
    # The lab hosts reach this one, and it them, as servers on one private network do.
    for rule in _forwarding("-C"):
        if not ok("iptables", *rule):
            sh("iptables", "-I", *rule[1:])


def _forwarding(verb: str) -> list[tuple[str, ...]]:
    return [
        (verb, "FORWARD", "-i", inside, "-o", outside, "-j", "ACCEPT")
        for inside, outside in ((BRIDGE, NETWORK_BRIDGE), (NETWORK_BRIDGE, BRIDGE))
    ]
