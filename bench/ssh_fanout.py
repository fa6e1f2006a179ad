"""20 commands on each of 10 server records: the panel's executor vs Fabric vs Ansible.

Each tool runs the same commands in order on every record, records in parallel (Ansible
with 10 forks, Fabric's ThreadingGroup, the executor with asyncio), connections included.
The records point at the lab hosts in turn, each with its own connection.
"""

from __future__ import annotations

import asyncio
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from panel.sensitive import Sensitive
from servers import ssh
from tests.lab.lab import Lab, LabHost, describe

RECORDS = 10
COMMANDS = [
    "test 1 = 1", "uname -a", "id -un", "hostname", "uptime", "date +%s",
    "cat /etc/os-release", "df -P /", "free", "nproc", "ls /", "echo hello",
    "docker version --format '{{.Server.Version}}'", "docker ps -q", "env",
    "cat /proc/loadavg", "whoami", "test -d /tmp", "pwd", "printf done",
]  # fmt: skip
ROUNDS = 3


def records(lab: Lab) -> list[tuple[str, LabHost]]:
    return [(f"r{i}", lab.hosts[i % len(lab.hosts)]) for i in range(RECORDS)]


def run_panel(lab: Lab) -> float:
    key = Sensitive(lab.hosts[0].client_key.read_text())
    targets = [
        ssh.Target(
            name=name,
            host=h.address,
            port=h.port,
            user=h.user,
            client_key=key,
            host_key=h.host_public_key,
        )
        for name, h in records(lab)
    ]

    argvs = [shlex.split(command) for command in COMMANDS]

    async def one(target: ssh.Target) -> None:
        for argv in argvs:
            await ssh.run(target, argv)

    async def everything() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in targets))
        elapsed = time.perf_counter() - started
        await ssh.close_all()
        return elapsed

    return asyncio.run(everything())


def run_fabric(lab: Lab, known_hosts: Path) -> float:
    from fabric import Connection, ThreadingGroup

    started = time.perf_counter()
    connections = []
    for _, h in records(lab):
        connection = Connection(
            h.address,
            user=h.user,
            port=h.port,
            connect_kwargs={
                "key_filename": str(h.client_key),
                "look_for_keys": False,
                "allow_agent": False,
            },
        )
        connection.client.load_host_keys(str(known_hosts))
        connections.append(connection)
    group = ThreadingGroup.from_connections(connections)
    for command in COMMANDS:
        group.run(command, hide=True)
    group.close()
    return time.perf_counter() - started


def run_ansible(lab: Lab, known_hosts: Path, workdir: Path, module: str) -> float:
    inventory = workdir / "inventory.ini"
    lines = ["[lab]"]
    for name, h in records(lab):
        lines.append(
            f"{name} ansible_host={h.address} ansible_port={h.port} ansible_user={h.user} "
            f"ansible_ssh_private_key_file={h.client_key}"
        )
    lines += [
        "[lab:vars]",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    inventory.write_text("\n".join(lines) + "\n")
    # !unsafe: the commands are run as written, not read as templates.
    tasks = "\n".join(f"    - {module}: !unsafe {command!r}" for command in COMMANDS)
    playbook = workdir / "playbook.yml"
    playbook.write_text(f"- hosts: lab\n  gather_facts: false\n  tasks:\n{tasks}\n")
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ansible.cli.playbook",
            "-i",
            str(inventory),
            "-f",
            "10",
            str(playbook),
        ],
        check=False,
        capture_output=True,
        text=True,
        env={
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_LOCAL_TEMP": str(workdir),
            "ANSIBLE_REMOTE_TEMP": "/tmp",
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(workdir),
        },
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ansible failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    lab = describe()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text("".join(f"{h.address} {h.host_public_key}\n" for h in lab.hosts))
        panel = [run_panel(lab) for _ in range(ROUNDS)]
        fabric = [run_fabric(lab, known_hosts) for _ in range(ROUNDS)]
        ansible = [
            run_ansible(lab, known_hosts, workdir, "ansible.builtin.shell") for _ in range(ROUNDS)
        ]
        ansible_raw = [
            run_ansible(lab, known_hosts, workdir, "ansible.builtin.raw") for _ in range(ROUNDS)
        ]
    total = RECORDS * len(COMMANDS)
    timings = {"panel": panel, "fabric": fabric, "ansible": ansible, "ansible raw": ansible_raw}
    for name, times in timings.items():
        print(
            f"{name:12} {total} commands: median {statistics.median(times):.2f}s  "
            f"runs {', '.join(f'{t:.2f}' for t in times)}"
        )
    base = statistics.median(panel)
    print(f"vs ansible: {statistics.median(ansible) / base:.1f}x")
    print(f"vs ansible raw: {statistics.median(ansible_raw) / base:.1f}x")
    print(f"vs fabric: {statistics.median(fabric) / base:.1f}x")


if __name__ == "__main__":
    main()
