"""What one collection round runs on a server: a single `sh` script that prints its facts in
sections, from files the kernel keeps (`/proc`, `df`, the containers' cgroups) and one
question to Docker (`docker stats` is not asked: it waits a second or more for two readings;
the rounds keep the counters and compute the rates themselves). Pure: the script is a
constant, parsed by `monitoring.metrics`. Nothing a user types reaches it."""

from __future__ import annotations

SECTIONS = (
    "stat", "loadavg", "meminfo", "df", "dfi", "diskstats", "blocks", "netdev", "sockstat",
    "uptime", "boot", "reboot", "procs", "containers", "cgroups",
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
    '[ -n "$ids" ] && inspected=$(docker inspect --format '
    "'{{.Name}}|{{.State.Status}}|{{.RestartCount}}|{{if .State.Health}}{{.State.Health.Status}}"
    '{{end}}|{{index .Config.Labels "panel.app"}}|{{index .Config.Labels "panel.accessory"}}'
    "|{{.State.StartedAt}}|{{.State.Pid}}' $ids 2>/dev/null)",
    'printf "%s\\n" "$inspected"',
    # Each running container's CPU time (ns) and memory from its cgroup, found through its
    # first process; cgroup v2 or v1, the path shortened when the host nests its cgroups.
    "echo @cgroups",
    "read_up() { path=$2; while :; do",
    '  [ -r "$1$path/$3" ] && { cat "$1$path/$3"; return; }',
    '  case $path in /*/*) path=/${path#/*/} ;; *) return ;; esac; done; }',
    'printf "%s\\n" "$inspected" | while IFS="|" read -r name _ _ _ _ _ _ pid; do',
    '  [ "${pid:-0}" -gt 0 ] 2>/dev/null || continue; cpu=; memory=',
    '  while IFS=: read -r _ controllers path; do case ",$controllers," in',
    "    ,,) cpu=${cpu:-$(read_up /sys/fs/cgroup \"$path\" cpu.stat |"
    " awk '$1 == \"usage_usec\" { printf \"%.0f\", $2 * 1000 }')}",
    '      memory=${memory:-$(read_up /sys/fs/cgroup "$path" memory.current)} ;;',
    '    *,cpuacct,*) cpu=$(read_up /sys/fs/cgroup/cpuacct "$path" cpuacct.usage ||'
    ' read_up /sys/fs/cgroup/cpu,cpuacct "$path" cpuacct.usage) ;;',
    '    *,memory,*) memory=$(read_up /sys/fs/cgroup/memory "$path" memory.usage_in_bytes) ;;',
    '  esac; done < "/proc/$pid/cgroup"; echo "${name#/}|$cpu|$memory"; done',
    "exit 0",
])  # fmt: skip


def collect() -> list[str]:
    return ["sh", "-c", COLLECT]


# Lines pass only when they hold the filter ($0, a fixed string: nothing in it is special),
# each sent as it comes and cut at 16 KiB.
LOG_FILTER = (
    'grep -F --line-buffered -e "$0" | '
    "while IFS= read -r line; do printf '%.16384s\\n' \"$line\"; done"
)
# $1 unit, $2 priority, $3 a file under /var/log, $4 lines to start with. The journal when the
# host has one and no file is named; else the file, or syslog.
HOST_LOG = "\n".join([
    'unit=$1 priority=$2 file=$3 lines=$4; set --',
    'if [ -z "$file" ] && command -v journalctl >/dev/null 2>&1; then',
    '  [ -n "$unit" ] && set -- "$@" --unit "$unit"',
    '  [ -n "$priority" ] && set -- "$@" --priority "$priority"',
    '  journalctl --follow --lines "$lines" --output short-iso --no-pager "$@" 2>&1',
    'else',
    '  tail -n "$lines" -F -- "${file:-/var/log/syslog}" 2>&1',
    f'fi | {LOG_FILTER}',
])  # fmt: skip
CONTAINER_LOG = f'docker logs --follow --tail "$1" "$2" 2>&1 | {LOG_FILTER}'


def host_log(unit: str, priority: str, file: str, pattern: str, lines: int) -> list[str]:
    return ["sh", "-c", HOST_LOG, pattern, unit, priority, file, str(lines)]


def container_log(name: str, pattern: str, lines: int) -> list[str]:
    return ["sh", "-c", CONTAINER_LOG, pattern, str(lines), name]
