"""The latest samples of every server and container, in Prometheus' text format, for people
whose Prometheus takes over from the panel's charts and alerts (no agent on the servers)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from monitoring.models import Alert, HostHealth, HostStatus
from panel.models import Team

# Sample field → (metric name, help).
SERVER_GAUGES = {
    "cpu_pct": ("panel_server_cpu_percent", "CPU busy, percent of all cores"),
    "iowait_pct": ("panel_server_iowait_percent", "CPU time waiting for I/O, percent"),
    "load1": ("panel_server_load1", "Load average over one minute"),
    "memory_pct": ("panel_server_memory_used_percent", "Memory used (not available), percent"),
    "memory_used": ("panel_server_memory_used_bytes", "Memory used (not available)"),
    "memory_total": ("panel_server_memory_total_bytes", "Memory installed"),
    "swap_used": ("panel_server_swap_used_bytes", "Swap used"),
    "disk_read_bps": ("panel_server_disk_read_bytes_per_second", "Bytes read from disks"),
    "disk_write_bps": ("panel_server_disk_written_bytes_per_second", "Bytes written to disks"),
    "disk_busy_pct": ("panel_server_disk_busy_percent", "Time the busiest disk was busy"),
    "net_in_bps": ("panel_server_network_receive_bytes_per_second", "Bytes received"),
    "net_out_bps": ("panel_server_network_transmit_bytes_per_second", "Bytes sent"),
    "processes": ("panel_server_processes", "Processes"),
    "threads": ("panel_server_threads", "Threads"),
    "tcp_connections": ("panel_server_tcp_sockets", "TCP sockets in use"),
}


SERVER = ["server", "team"]
MOUNT = [*SERVER, "mount"]
CONTAINER = [*SERVER, "container"]


class Latest(Collector):
    def __init__(self, teams: Iterable[Team]) -> None:
        self.teams = list(teams)

    def collect(self) -> Iterator[Metric]:
        healths = list(
            HostHealth.objects.filter(server__team__in=self.teams).select_related(
                "server", "server__team"
            )
        )
        up = GaugeMetricFamily("panel_server_up", "1 when the last round reached it", labels=SERVER)
        gauges = {field: GaugeMetricFamily(name, words, labels=SERVER)
                  for field, (name, words) in SERVER_GAUGES.items()}  # fmt: skip
        mounts = GaugeMetricFamily("panel_mount_used_percent", "Space used, percent", labels=MOUNT)
        inodes = GaugeMetricFamily("panel_mount_inodes_used_percent", "Inodes used", labels=MOUNT)
        running = GaugeMetricFamily(
            "panel_container_running", "1 when it runs", labels=[*CONTAINER, "app", "accessory"]
        )
        restarts = GaugeMetricFamily("panel_container_restarts", "Restarts", labels=CONTAINER)
        cpu = GaugeMetricFamily("panel_container_cpu_percent", "CPU, percent", labels=CONTAINER)
        memory = GaugeMetricFamily("panel_container_memory_bytes", "Memory", labels=CONTAINER)
        for health in healths:
            where = [health.server.name, health.server.team.slug]
            up.add_metric(where, 1.0 if health.status == HostStatus.UP else 0.0)
            if health.status != HostStatus.UP:
                continue  # what is not known is not exposed
            latest = health.latest
            for field, gauge in gauges.items():
                if latest.get(field) is not None:
                    gauge.add_metric(where, float(latest[field]))
            for mount in latest.get("mounts", []):
                mounts.add_metric([*where, mount["path"]], float(mount["pct"]))
                if mount.get("inodes_pct") is not None:
                    inodes.add_metric([*where, mount["path"]], float(mount["inodes_pct"]))
            for container in latest.get("containers", []):
                name = [*where, container["name"]]
                labels = [*name, container.get("app", ""), container.get("accessory", "")]
                running.add_metric(labels, 1.0 if container["state"] == "running" else 0.0)
                restarts.add_metric(name, float(container.get("restarts", 0)))
                if container.get("cpu_pct") is not None:
                    cpu.add_metric(name, float(container["cpu_pct"]))
                if container.get("memory_bytes") is not None:
                    memory.add_metric(name, float(container["memory_bytes"]))
        alerts = GaugeMetricFamily("panel_alerts_open", "Alerts open", labels=["team"])
        for team in self.teams:
            count = Alert.objects.filter(team=team, resolved_at=None).count()
            alerts.add_metric([team.slug], float(count))
        yield from (up, *gauges.values(), mounts, inodes, running, restarts, cpu, memory, alerts)


def registry_for(teams: Iterable[Team]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Latest(teams))
    return registry
