"""What the collection rounds learn about servers: each server's state now (`HostHealth`),
its samples (kept 48 h), their 5-minute rollups (kept 90 days), and events on its timeline
(reboots, unreachable and back)."""

from __future__ import annotations

from django.db import models


class HostStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not collected yet"
    UP = "up", "Reachable"
    UNREACHABLE = "unreachable", "Unreachable"


class HostHealth(models.Model):
    """A server's monitoring state: how often it is collected, what the last round found,
    and the counters the next round's rates are computed against."""

    server = models.OneToOneField(
        "servers.Server", on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    interval_seconds = models.PositiveIntegerField(default=30)
    status = models.CharField(max_length=12, choices=HostStatus.choices, default=HostStatus.UNKNOWN)
    failures = models.PositiveIntegerField(default=0)  # rounds failed in a row
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # a round took it then
    seen_at = models.DateTimeField(null=True, blank=True)  # its last round that answered
    counters = models.JSONField(default=dict, blank=True)
    boot_id = models.CharField(max_length=64, blank=True)
    booted_at = models.DateTimeField(null=True, blank=True)
    reboot_required = models.BooleanField(default=False)
    # The last reading as pages show it: cpu, memory, fullest mount, containers.
    latest = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.server_id}: {self.status}"


class Sample(models.Model):
    """One round on one server. Rates are null when the round before was of another boot."""

    server = models.ForeignKey("servers.Server", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    cpu_pct = models.FloatField(null=True)
    iowait_pct = models.FloatField(null=True)
    load1 = models.FloatField()
    memory_pct = models.FloatField()
    memory_used = models.BigIntegerField()
    memory_total = models.BigIntegerField()
    swap_used = models.BigIntegerField()
    disk_pct = models.FloatField(null=True)  # the fullest mount
    disk_read_bps = models.FloatField(null=True)
    disk_write_bps = models.FloatField(null=True)
    disk_busy_pct = models.FloatField(null=True)
    net_in_bps = models.FloatField(null=True)
    net_out_bps = models.FloatField(null=True)
    processes = models.PositiveIntegerField()
    threads = models.PositiveIntegerField()
    tcp_connections = models.PositiveIntegerField()
    mounts = models.JSONField(default=list)  # path, used %, inodes %
    containers = models.JSONField(default=list)  # name, state, restarts, health, cpu, memory

    class Meta:
        indexes = [models.Index(fields=["server", "at"], name="sample_server_at")]

    def __str__(self) -> str:
        return f"{self.server_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class Rollup(models.Model):
    """Five minutes of a server's samples: min, average and max of what charts show."""

    server = models.ForeignKey("servers.Server", on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField()  # its start
    samples = models.PositiveIntegerField()
    cpu_min = models.FloatField(null=True)
    cpu_avg = models.FloatField(null=True)
    cpu_max = models.FloatField(null=True)
    iowait_min = models.FloatField(null=True)
    iowait_avg = models.FloatField(null=True)
    iowait_max = models.FloatField(null=True)
    memory_min = models.FloatField(null=True)
    memory_avg = models.FloatField(null=True)
    memory_max = models.FloatField(null=True)
    disk_min = models.FloatField(null=True)
    disk_avg = models.FloatField(null=True)
    disk_max = models.FloatField(null=True)
    load_min = models.FloatField(null=True)
    load_avg = models.FloatField(null=True)
    load_max = models.FloatField(null=True)
    net_in_min = models.FloatField(null=True)
    net_in_avg = models.FloatField(null=True)
    net_in_max = models.FloatField(null=True)
    net_out_min = models.FloatField(null=True)
    net_out_avg = models.FloatField(null=True)
    net_out_max = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["server", "bucket"], name="rollup_server_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.server_id} from {self.bucket:%Y-%m-%d %H:%M}"


class EventKind(models.TextChoices):
    REBOOTED = "rebooted", "Rebooted"
    UNREACHABLE = "unreachable", "Unreachable"
    REACHABLE = "reachable", "Reachable again"


class HostEvent(models.Model):
    """Something that happened to a server, on its timeline."""

    server = models.ForeignKey("servers.Server", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["server", "at"], name="event_server_at")]

    def __str__(self) -> str:
        return f"{self.server_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Round(models.Model):
    """A collection round, so the panel can tell when its rounds stop."""

    started_at = models.DateTimeField()
    seconds = models.FloatField()
    servers = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"round at {self.started_at:%H:%M:%S}: {self.answered}/{self.servers}"
