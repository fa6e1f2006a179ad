"""Names, addresses and paths of the lab; one place so `down` finds what `up` made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_DIR = Path("/var/lib/panel-lab")  # survives runs: docker data of the hosts, caches, keys
RUN_DIR = Path("/run/panel-lab")  # pids, sockets, the state of this boot
CACHE_DIR = Path("/var/cache/panel-lab")  # the debootstrap root file system

BRIDGE = "panellab0"
SUBNET_PREFIX = "10.213.7"
BRIDGE_ADDRESS = f"{SUBNET_PREFIX}.1"
REGISTRY_PORT = 5000
REGISTRY_ADDRESS = f"{BRIDGE_ADDRESS}:{REGISTRY_PORT}"
REDIS_PORT = 6390
S3_PORT = 5100
HOST_COUNT = 3
DEBIAN_SUITE = "bookworm"
NEXT_SUITE = "trixie"  # a base for the images of the next Debian


@dataclass(frozen=True)
class HostSpec:
    index: int

    @property
    def name(self) -> str:
        return f"lab{self.index}"

    @property
    def netns(self) -> str:
        return f"panel-{self.name}"

    @property
    def veth_outside(self) -> str:
        return f"pl-{self.name}"

    @property
    def address(self) -> str:
        return f"{SUBNET_PREFIX}.{10 + self.index}"

    @property
    def user(self) -> str:
        return f"panel{self.name}"

    @property
    def run_dir(self) -> Path:
        return RUN_DIR / self.name

    @property
    def state_dir(self) -> Path:
        return STATE_DIR / self.name

    @property
    def docker_socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.docker_socket}"


HOSTS = [HostSpec(i) for i in range(1, HOST_COUNT + 1)]
