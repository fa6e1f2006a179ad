"""Test hosts: a network namespace each, with its own address, sshd, user and Docker Engine.

Layout: a bridge on this machine holds the first address of the lab subnet; each host is a
network namespace joined to the bridge by a veth pair. `down` stops the daemons by their pid
files, then deletes the namespaces (which removes their veth ends) and the bridge.
"""

from __future__ import annotations

import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.lab.config import (
    BRIDGE,
    BRIDGE_ADDRESS,
    HOSTS,
    REGISTRY_ADDRESS,
    RUN_DIR,
    STATE_DIR,
    HostSpec,
)
from tests.lab.proc import ok, read_pid, sh, spawn, stop_pid, wait_for

KEYS_DIR = STATE_DIR / "keys"
CLIENT_KEY = KEYS_DIR / "id_ed25519"


def forward_between_hosts(verb: str) -> tuple[str, ...]:
    return (verb, "FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT")


def up_network() -> None:
    if not ok("ip", "link", "show", BRIDGE):
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    # Hosts reach each other as servers on one private network do; this machine's Docker
    # drops forwarded traffic by default, bridged traffic included.
    if not ok("iptables", *forward_between_hosts("-C")):
        sh("iptables", *forward_between_hosts("-I"))
    for host in HOSTS:
        _up_namespace(host)


def down_network() -> None:
    for host in HOSTS:
        if ok("ip", "netns", "pids", host.netns):
            sh("ip", "netns", "del", host.netns, check=False)
        if ok("ip", "link", "show", host.veth_outside):
            sh("ip", "link", "del", host.veth_outside, check=False)
    if ok("ip", "link", "show", BRIDGE):
        sh("ip", "link", "del", BRIDGE, check=False)
    sh("iptables", *forward_between_hosts("-D"), check=False)


def client_key() -> Path:
    """The lab's client key, authorized for every host's user."""
    KEYS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not CLIENT_KEY.exists():
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "panel-lab", "-f", str(CLIENT_KEY))
    return CLIENT_KEY


def up_host(host: HostSpec) -> None:
    host.run_dir.mkdir(parents=True, exist_ok=True)
    host.state_dir.mkdir(parents=True, exist_ok=True)
    _ensure_user(host)
    _start_dockerd(host)
    _start_sshd(host)


def down_host(host: HostSpec) -> None:
    for pidfile, grace in ((host.run_dir / "sshd.pid", 5), (host.run_dir / "docker.pid", 30)):
        pid = read_pid(pidfile)
        if pid is not None:
            stop_pid(pid, timeout=grace)


def host_up(host: HostSpec) -> bool:
    return (
        read_pid(host.run_dir / "sshd.pid") is not None
        and read_pid(host.run_dir / "docker.pid") is not None
    )


def host_public_key(host: HostSpec) -> str:
    return (host.state_dir / "ssh_host_ed25519_key.pub").read_text().strip()


def docker_env(host: HostSpec) -> dict[str, str]:
    return {"DOCKER_HOST": host.docker_host}


def _up_namespace(host: HostSpec) -> None:
    if not ok("ip", "netns", "pids", host.netns):
        sh("ip", "netns", "add", host.netns)
    if not ok("ip", "link", "show", host.veth_outside):
        sh(
            "ip",
            "link",
            "add",
            host.veth_outside,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host.netns,
        )
        sh("ip", "link", "set", host.veth_outside, "master", BRIDGE, "up")
    inside = ["ip", "netns", "exec", host.netns]
    addresses = sh(*inside, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout.decode()
    if f" {host.address}/" not in addresses:
        sh(*inside, "ip", "addr", "add", f"{host.address}/24", "dev", "eth0")
    sh(*inside, "ip", "link", "set", "eth0", "up")
    sh(*inside, "ip", "link", "set", "lo", "up")
    sh(*inside, "ip", "route", "replace", "default", "via", BRIDGE_ADDRESS)


def _ensure_user(host: HostSpec) -> None:
    try:
        pwd.getpwnam(host.user)
    except KeyError:
        # /bin/sh and an empty home: no shell start-up files slow every command down.
        empty_skel = STATE_DIR / "empty-skel"
        empty_skel.mkdir(parents=True, exist_ok=True)
        sh(
            "useradd",
            "--create-home",
            "--skel",
            str(empty_skel),
            "--shell",
            "/bin/sh",
            "--user-group",
            host.user,
        )
    # No password, but not locked: with UsePAM off sshd refuses locked accounts even for keys.
    sh("usermod", "--password", "*", host.user)
    home = Path(pwd.getpwnam(host.user).pw_dir)
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    authorized.write_text(Path(str(client_key()) + ".pub").read_text())
    authorized.chmod(0o600)
    sh("chown", "-R", f"{host.user}:{host.user}", str(ssh_dir))


def _nsenter(host: HostSpec) -> list[str]:
    # `ip netns exec` remounts /sys, after which dockerd cannot find the devices cgroup.
    return ["nsenter", f"--net=/var/run/netns/{host.netns}"]


def _start_dockerd(host: HostSpec) -> None:
    pidfile = host.run_dir / "docker.pid"
    if read_pid(pidfile) is None:
        data = host.state_dir / "docker"
        data.mkdir(parents=True, exist_ok=True)
        argv = [
            *_nsenter(host),
            "dockerd",
            "--host",
            host.docker_host,
            "--data-root",
            str(data),
            "--exec-root",
            str(host.run_dir / "exec"),
            "--pidfile",
            str(pidfile),
            "--cgroup-parent",
            host.netns,
            "--group",
            host.user,
            "--insecure-registry",
            REGISTRY_ADDRESS,
            "--bip",
            "172.31.250.1/24",
            "--default-address-pool",
            "base=172.30.0.0/16,size=24",
        ]
        spawn(argv, STATE_DIR / "logs" / f"{host.name}-dockerd.log")
    wait_for(lambda: ok("docker", "info", env=docker_env(host)), f"Docker on {host.name}", 60)


@contextmanager
def swapped_host_key(host: HostSpec) -> Iterator[str]:
    """Restart the host's sshd with a new host key (as a reinstall or an impostor would),
    then put the original back. Yields the new public key."""
    other_key = host.run_dir / "ssh_host_ed25519_key.swapped"
    other_key.unlink(missing_ok=True)
    other_key.with_suffix(".swapped.pub").unlink(missing_ok=True)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key))
    _stop_sshd(host)
    _start_sshd(host, other_key)
    try:
        yield Path(f"{other_key}.pub").read_text().strip()
    finally:
        _stop_sshd(host)
        _start_sshd(host)


@contextmanager
def sshd_down(host: HostSpec) -> Iterator[None]:
    """Cut the host off SSH: its sshd stops (with every session), then comes back."""
    _stop_sshd(host)
    sh("pkill", "-KILL", "-u", host.user, check=False)
    try:
        yield
    finally:
        _start_sshd(host)


def _stop_sshd(host: HostSpec) -> None:
    pid = read_pid(host.run_dir / "sshd.pid")
    if pid is not None:
        stop_pid(pid, timeout=5)


def _start_sshd(host: HostSpec, host_key: Path | None = None) -> None:
    pidfile = host.run_dir / "sshd.pid"
    if read_pid(pidfile) is not None:
        return
    host_key = host_key or host.state_dir / "ssh_host_ed25519_key"
    if not host_key.exists():
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
    config = host.run_dir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {host.address}:22",
                f"HostKey {host_key}",
                f"PidFile {pidfile}",
                f"AllowUsers {host.user}",
                "PermitRootLogin no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "PrintMotd no",
                "MaxSessions 10",
                "MaxStartups 100:30:200",
                "ClientAliveInterval 15",
                "AllowTcpForwarding yes",
                # Debian's docker client, as on a server with docker.io, even where another
                # client comes earlier in this machine's PATH.
                f"SetEnv DOCKER_HOST={host.docker_host} PATH=/usr/bin:/bin",
                "Subsystem sftp internal-sftp",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    sh(
        *_nsenter(host),
        "/usr/sbin/sshd",
        "-f",
        str(config),
        "-E",
        str(STATE_DIR / "logs" / f"{host.name}-sshd.log"),
    )
    wait_for(lambda: read_pid(pidfile) is not None, f"sshd on {host.name}", 20)


SMALL_DISK = RUN_DIR / "small-disk"  # a 64 MiB filesystem every lab host sees, to fill up
SMALL_DISK_IMAGE = STATE_DIR / "small-disk.img"


def make_small_disk() -> None:
    """A small ext4 filesystem on a loop device, writable by every lab user: a test fills it
    past a threshold with one file."""
    if small_disk_mounted():
        return
    SMALL_DISK.mkdir(parents=True, exist_ok=True)
    if not SMALL_DISK_IMAGE.exists():
        sh("truncate", "-s", "64M", str(SMALL_DISK_IMAGE))
        sh("mkfs.ext4", "-q", "-F", str(SMALL_DISK_IMAGE))
    sh("mount", "-o", "loop", str(SMALL_DISK_IMAGE), str(SMALL_DISK))
    SMALL_DISK.chmod(0o1777)


def small_disk_mounted() -> bool:
    return ok("mountpoint", "-q", str(SMALL_DISK))
