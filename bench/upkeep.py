"""Check for updates on 10 server records: the panel's "check all for updates" (one job
through the real job runner, the servers side by side) vs an Ansible playbook doing the same
with its `apt` module in check mode (`update_cache`, `upgrade: dist`, 10 forks).

The records are 10 copies of the lab's Debian host (containers with their own apt state,
python3-apt for Ansible's module, and the lab's repository), started here and removed after.
Both refresh apt's lists and compute the upgrade; neither installs anything. The copies
share this machine's cores with the tool being measured, so its wall time includes their apt
work; each tool's own CPU is printed too.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.panel_env import setup_django
from tests.lab import debhost
from tests.lab.debhost import DebianHost

CPU: dict[str, list[float]] = {"panel": [], "ansible": []}  # the tool's own, on this machine
RECORDS = 10
ROUNDS = 3
FIRST_COPY = 2  # deb1 is the suite's; the copies are deb2…deb11
PLAYBOOK = """- hosts: all
  gather_facts: false
  become: true
  tasks:
    - ansible.builtin.apt:
        update_cache: true
        upgrade: dist
      check_mode: true
"""


def start_hosts() -> list[DebianHost]:
    debhost.up()
    return [debhost.start(index) for index in range(FIRST_COPY, FIRST_COPY + RECORDS)]


def panel_records(hosts: list[DebianHost]) -> list[int]:
    from panel.models import Team
    from servers import keys
    from servers.models import HostKeyState, Server, SshKey

    team = Team.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
    pair = keys.import_private(hosts[0].client_key.read_text())
    key = SshKey.objects.create(
        team=team, name="lab", public_key=pair.public_key, fingerprint=pair.fingerprint,
        private_key=pair.private_key,
    )  # fmt: skip
    public = keys.public_key_line(hosts[0].host_public_key)
    return [
        Server.objects.create(
            team=team, name=host.name, host=host.address, user=host.user, ssh_key=key,
            host_key_state=HostKeyState.TRUSTED, host_key=public,
            host_key_fingerprint=keys.fingerprint(public),
        ).pk
        for host in hosts
    ]  # fmt: skip


def run_panel(server_ids: list[int]) -> float:
    """ "Check all for updates": one job, the servers side by side, through the job runner."""
    from panel.jobs.runner import run_job
    from panel.models import Job, JobKind
    from servers.models import Server, ServerUpdates
    from servers.operations.updates import check_updates

    team = Server.objects.get(pk=server_ids[0]).team
    job = Job.objects.create(kind=JobKind.SERVER_UPDATES, team=team, actor_label="bench",
                             params={"servers": server_ids})  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    outcome = run_job(job.pk, check_updates)
    elapsed = time.perf_counter() - started
    CPU["panel"].append(time.process_time() - cpu)
    if outcome != "succeeded":
        raise SystemExit(f"the check failed: {Job.objects.get(pk=job.pk).error}")
    found = ServerUpdates.objects.filter(server_id__in=server_ids, pending=1).count()
    if found != RECORDS:
        raise SystemExit(f"only {found} checks found the demo package")
    return elapsed


def run_ansible(hosts: list[DebianHost], workdir: Path) -> float:
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text("".join(f"{h.address} {h.host_public_key}\n" for h in hosts))
    inventory = workdir / "inventory.ini"
    lines = ["[lab]"] + [
        f"{h.name} ansible_host={h.address} ansible_user={h.user} "
        f"ansible_ssh_private_key_file={h.client_key}"
        for h in hosts
    ]
    lines += [
        "[lab:vars]",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    inventory.write_text("\n".join(lines) + "\n")
    playbook = workdir / "check.yml"
    playbook.write_text(PLAYBOOK)
    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "ansible.cli.playbook", "-i", str(inventory), "-f",
         str(RECORDS), str(playbook)],
        check=False, capture_output=True, text=True,
        env={"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_LOCAL_TEMP": str(workdir),
             "ANSIBLE_REMOTE_TEMP": "/tmp", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
             "HOME": str(workdir)},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    CPU["ansible"].append(_children_cpu() - cpu)
    if result.returncode != 0 or f"changed={1}" not in result.stdout:
        raise SystemExit(f"ansible failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return elapsed


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    setup_django()
    hosts = start_hosts()
    try:
        server_ids = panel_records(hosts)
        with tempfile.TemporaryDirectory() as scratch:
            panel, ansible = [], []
            for _ in range(ROUNDS):  # in turns, so both meet the same machine
                panel.append(run_panel(server_ids))
                ansible.append(run_ansible(hosts, Path(scratch)))
    finally:
        for index in range(FIRST_COPY, FIRST_COPY + RECORDS):
            debhost.remove(index)
    for name, times in (("panel", panel), ("ansible", ansible)):
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"{name:8} check for updates on {RECORDS} servers: "
              f"median {statistics.median(times):.2f}s  runs {runs}; its own CPU "
              f"{statistics.median(CPU[name]):.2f}s")  # fmt: skip
    own = statistics.median(CPU["ansible"]) / statistics.median(CPU["panel"])
    print(f"own cpu vs ansible: {own:.1f}x")
    print(f"vs ansible: {statistics.median(ansible) / statistics.median(panel):.1f}x")


if __name__ == "__main__":
    main()
