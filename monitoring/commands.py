"""What one collection round runs on a server: a single `sh` script that prints its facts in
sections, read from files the kernel keeps (`/proc`, `df`, the containers' cgroups) by the
shell's own builtins, so a round starts two processes (`df`), and sends them in one write.
Docker is asked through its API on the pooled connection (`monitoring.docker_api`), and the
script is given the containers' first processes to read their cgroups; where the API cannot be
reached, the script asks Docker's CLI itself (`cli`). Pure: the script is a constant, parsed by
`monitoring.metrics`. Nothing a user types reaches it."""

from __future__ import annotations

SECTIONS = (
    "stat", "loadavg", "meminfo", "df", "dfi", "diskstats", "blocks", "netdev", "sockstat",
    "uptime", "boot", "reboot", "procs", "docker", "containers", "cgroups",
)  # fmt: skip
CLI, API = "cli", "api"

# $1 is `cli` or `api`, then (api) the running containers' first processes. Every section
# starts with `@name`; a failing part leaves its section empty, never the round.
COLLECT = "\n".join([
    "show() { while IFS= read -r line || [ -n \"$line\" ]; do printf '%s\\n' \"$line\"; done; }",
    # $1 a cgroup root, $2 a path under it, $3 a file: `file` names it at the path, or at the
    # path shortened from the left when the host nests its cgroups.
    "found() { path=$2; while :; do",
    '  [ -r "$1$path/$3" ] && { file=$1$path/$3; return 0; }',
    '  case $path in (/*/*) path=/${path#/*/} ;; (*) return 1 ;; esac; done; }',
    # A process's cgroup CPU time (ns) and memory, cgroup v2 or v1.
    "usage() { cpu= memory=",
    '  while IFS=: read -r _ controllers path; do case ",$controllers," in',
    '    (,,) if [ -z "$cpu" ] && found /sys/fs/cgroup "$path" cpu.stat; then',
    '        while read -r key value; do [ "$key" = usage_usec ] && cpu=$((value * 1000)); done'
    ' < "$file"; fi',
    '      [ -z "$memory" ] && found /sys/fs/cgroup "$path" memory.current &&'
    ' read -r memory < "$file" ;;',
    '    (*,cpuacct,*) { found /sys/fs/cgroup/cpuacct "$path" cpuacct.usage ||'
    ' found /sys/fs/cgroup/cpu,cpuacct "$path" cpuacct.usage; } && read -r cpu < "$file" ;;',
    '    (*,memory,*) found /sys/fs/cgroup/memory "$path" memory.usage_in_bytes &&'
    ' read -r memory < "$file" ;;',
    '  esac; done < "/proc/$1/cgroup"; printf \'%s|%s|%s\\n\' "$1" "$cpu" "$memory"; }',
    "facts() {",
    "  echo @stat; read -r line < /proc/stat; printf '%s\\n' \"$line\"",
    "  echo @loadavg; show < /proc/loadavg",
    "  echo @meminfo; show < /proc/meminfo",
    "  echo @df; df -P -k 2>/dev/null",
    "  echo @dfi; df -P -i 2>/dev/null",
    "  echo @diskstats; show < /proc/diskstats",
    "  echo @blocks; for block in /sys/block/*; do printf '%s\\n' \"${block##*/}\"; done",
    "  echo @netdev; show < /proc/net/dev",
    "  echo @sockstat; show < /proc/net/sockstat",
    "  echo @uptime; show < /proc/uptime",
    "  echo @boot; show < /proc/sys/kernel/random/boot_id",
    "  echo @reboot; [ -e /var/run/reboot-required ] && echo yes",
    "  echo @procs; set -- /proc/[0-9]*; echo $#",
    "  echo @docker; printf '%s\\n' \"${DOCKER_HOST:-unix:///var/run/docker.sock}\"",
    "}",
    'mode=$1; shift',
    'if [ "$mode" = cli ]; then',
    "  ids=$(docker ps -aq 2>/dev/null)",
    '  [ -n "$ids" ] && inspected=$(docker inspect --format '
    "'{{.Name}}|{{.State.Status}}|{{.RestartCount}}|{{if .State.Health}}{{.State.Health.Status}}"
    '{{end}}|{{index .Config.Labels "panel.app"}}|{{index .Config.Labels "panel.accessory"}}'
    "|{{.State.StartedAt}}|{{.State.Pid}}' $ids 2>/dev/null)",
    "fi",
    'out=$(facts',
    '  if [ "$mode" = cli ]; then echo @containers; printf \'%s\\n\' "$inspected"; fi',
    "  echo @cgroups; for pid; do [ \"$pid\" -gt 0 ] 2>/dev/null && usage \"$pid\"; done",
    '  [ "$mode" = cli ] && printf \'%s\\n\' "$inspected" |',
    '    while IFS="|" read -r _ _ _ _ _ _ _ pid; do [ "${pid:-0}" -gt 0 ] 2>/dev/null &&'
    ' usage "$pid"; done)',
    "printf '%s\\n' \"$out\"",
    "exit 0",
])  # fmt: skip


def collect(mode: str, pids: list[int]) -> list[str]:
    return ["sh", "-c", COLLECT, "sh", mode, *(str(pid) for pid in pids)]


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
