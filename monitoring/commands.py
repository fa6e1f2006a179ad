"""What one collection round runs on a server: a single `sh` script that prints its facts in
sections, from files the kernel keeps (`/proc`, `df`) and one question to Docker. Pure: the
script is a constant, parsed by `monitoring.metrics`. Nothing a user types reaches it."""

from __future__ import annotations

SECTIONS = (
    "stat", "loadavg", "meminfo", "df", "dfi", "diskstats", "blocks", "netdev", "sockstat",
    "uptime", "boot", "reboot", "procs", "containers", "stats",
)  # fmt: skip

# Every section starts with `@name`; a failing part leaves its section empty, never the round.
COLLECT = "\n".join([
    "echo @stat; head -n 1 /proc/stat",
    "echo @loadavg; cat /proc/loadavg",
    "echo @meminfo; grep -E '^(MemTotal|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo",
    "echo @df; df -P -k 2>/dev/null",
    "echo @dfi; df -P -i 2>/dev/null",
    "echo @diskstats; cat /proc/diskstats",
    "echo @blocks; ls /sys/block 2>/dev/null",
    "echo @netdev; tail -n +3 /proc/net/dev",
    "echo @sockstat; grep '^TCP' /proc/net/sockstat",
    "echo @uptime; cat /proc/uptime",
    "echo @boot; cat /proc/sys/kernel/random/boot_id",
    "echo @reboot; [ -e /var/run/reboot-required ] && echo yes",
    "echo @procs; set -- /proc/[0-9]*; echo $#",
    "echo @containers",
    "ids=$(docker ps -aq 2>/dev/null)",
    '[ -n "$ids" ] && docker inspect --format '
    "'{{.Name}}|{{.State.Status}}|{{.RestartCount}}|{{if .State.Health}}{{.State.Health.Status}}"
    '{{end}}|{{index .Config.Labels "panel.app"}}|{{index .Config.Labels "panel.accessory"}}'
    "|{{.State.StartedAt}}' $ids 2>/dev/null",
    "echo @stats",
    '[ -n "$(docker ps -q 2>/dev/null)" ] && docker stats --no-stream --format '
    "'{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}' 2>/dev/null",
    "exit 0",
])  # fmt: skip


def collect() -> list[str]:
    return ["sh", "-c", COLLECT]
