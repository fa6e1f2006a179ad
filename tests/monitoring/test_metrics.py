"""Reading a round's output: sections, memory, mounts on block devices only, rates against
the round before (none across a reboot), containers with their usage."""

from __future__ import annotations

import dataclasses

from monitoring.metrics import read

OUTPUT = """@stat
cpu  1000 0 500 8000 500 0 0 0 0 0
@loadavg
0.50 0.40 0.30 2/624 13341
@meminfo
MemTotal:       1000000 kB
MemAvailable:    250000 kB
SwapTotal:       100000 kB
SwapFree:         25000 kB
@df
Filesystem              1024-blocks     Used Available Capacity Mounted on
tmpfs                      24683656     1052  24682604       1% /dev/shm
/dev/vda                  1000 900 100      90% /
/dev/loop3                  2000 500 1500      25% /srv/my data
overlay                   1000 1000 0 100% /var/lib/docker/overlay2/x/merged
@dfi
Filesystem                Inodes  IUsed    IFree IUse% Mounted on
/dev/vda                16777216 661403 16115813    4% /
@diskstats
   7       3 loop3 9 0 9 0 9 0 9 0 0 9 0 0 0 0 0 0 0
 254       0 vda 10 0 2000 0 10 0 4000 0 0 1000 0 0 0 0 0 0 0
 254       1 vda1 10 0 2000 0 10 0 4000 0 0 1000 0 0 0 0 0 0 0
@blocks
loop3
vda
@netdev
lo: 1208606 7520 0 0 0 0 0 0 1208606 7520 0 0 0 0 0 0
eth0: 3000 52516 0 0 0 0 0 0 6000 49609 0 0 0 0 0 0
veth3acaa4a: 0 0 0 0 0 0 0 0 12388 234 0 0 0 0 0 0
@sockstat
TCP: inuse 6 orphan 0 tw 3 alloc 8 mem 1
@uptime
1030.00 2000.00
@boot
b00t-1
@reboot
yes
@procs
183
@docker
unix:///run/docker.sock
@containers
/shop-web-v1|running|0|healthy|shop||2026-11-23T05:06:17Z|4242
/panel-accessory-db|restarting|7|||db|2026-11-23T05:05:27Z|0
@cgroups
4242|3000000000|13107200
"""


def test_a_first_reading_has_levels_but_no_rates() -> None:
    reading = read(OUTPUT, None)
    assert reading.memory_total == 1_024_000_000 and reading.memory_pct == 75.0
    assert reading.swap_used == 75_000 * 1024 and reading.threads == 624
    assert reading.processes == 183 and reading.tcp_connections == 6 and reading.reboot_required
    assert [mount.path for mount in reading.mounts] == ["/", "/srv/my data"]
    assert reading.fullest is not None and reading.fullest.used_pct == 90.0
    assert reading.mounts[0].inodes_pct == 4.0 and reading.mounts[1].inodes_pct is None
    assert reading.cpu_pct is None and reading.net_in_bps is None
    assert reading.counters.disks == {"vda": (2000 * 512, 4000 * 512, 1000)}
    assert list(reading.counters.net) == ["eth0"]
    web, db = reading.containers[1], reading.containers[0]
    assert (web.name, web.health, web.app, web.cpu_pct) == ("shop-web-v1", "healthy", "shop", None)
    assert web.memory_bytes == 13_107_200
    assert (db.state, db.restarts, db.accessory, db.memory_bytes) == ("restarting", 7, "db", None)
    assert reading.counters.containers == {"shop-web-v1": 3_000_000_000}
    assert reading.docker_socket == "/run/docker.sock"


def test_rates_come_from_the_round_before_of_the_same_boot() -> None:
    now = read(OUTPUT, None).counters
    before = dataclasses.replace(
        now, seconds=1000.0, cpu=(900, 0, 450, 7700, 450, 0, 0, 0),
        disks={"vda": (1000 * 512, 1000 * 512, 700)}, net={"eth0": (0, 3000)},
        containers={"shop-web-v1": 2_400_000_000},
    )  # fmt: skip
    reading = read(OUTPUT, before)
    # 500 jiffies passed: 150 busy, 300 idle, 50 waiting for I/O.
    assert (reading.cpu_pct, reading.iowait_pct) == (30.0, 10.0)
    assert (reading.disk_read_bps, reading.disk_write_bps) == (17066.7, 51200.0)
    assert reading.disk_busy_pct == 1.0  # 300 ms of 30 s
    assert (reading.net_in_bps, reading.net_out_bps) == (100.0, 100.0)
    assert reading.containers[1].cpu_pct == 2.0  # 0.6 s of CPU in 30 s
    rebooted = dataclasses.replace(before, boot_id="another")
    assert read(OUTPUT, rebooted).cpu_pct is None


def test_a_mount_growing_steadily_says_when_it_will_be_full() -> None:
    now = read(OUTPUT, None).counters
    assert now.fill["/"] == (900 * 1024, 0.0, 0.0)
    # Watched half an hour, growing 1 KiB/s; 100 KiB are left.
    steady = dataclasses.replace(now, seconds=1000.0, fill={"/": (870 * 1024, 1024.0, 1800.0)})
    root = read(OUTPUT, steady).mounts[0]
    assert (root.path, root.available_bytes, root.hours_left) == ("/", 100 * 1024, 0.03)
    assert read(OUTPUT, steady).counters.fill["/"] == (900 * 1024, 1024.0, 1830.0)
    young = dataclasses.replace(steady, fill={"/": (870 * 1024, 1024.0, 600.0)})
    assert read(OUTPUT, young).mounts[0].hours_left is None  # not watched long enough
    shrinking = dataclasses.replace(steady, fill={"/": (950 * 1024, -10.0, 7200.0)})
    assert read(OUTPUT, shrinking).mounts[0].hours_left is None


def test_a_section_that_printed_nothing_leaves_its_values_empty() -> None:
    reading = read("@stat\ncpu 1 2 3 4 5 6 7 8\n@docker\n@containers\n@cgroups\n", None)
    assert reading.memory_total == 0 and reading.mounts == () and reading.containers == ()
    assert reading.docker_socket == ""
