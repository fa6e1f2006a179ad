"""What the collection rounds learn about servers: each server's state now (`HostHealth`),
its samples (kept 48 h), their 5-minute rollups (kept 90 days), events on its timeline
(reboots, unreachable and back); the alerts they open, and the notifications that tell
people."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from monitoring.validators import validate_check_url
from panel.fields import EncryptedTextField


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
    # Docker's unix socket on the server, asked through SSH; "" until a round learns it.
    docker_socket = models.CharField(max_length=255, blank=True)
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


class AlertKind(models.TextChoices):
    CPU = "cpu", "CPU high"
    MEMORY = "memory", "Memory high"
    DISK = "disk", "Disk almost full"
    INODES = "inodes", "Inodes almost used up"
    IOWAIT = "iowait", "I/O wait high"
    UNREACHABLE = "unreachable", "Server unreachable"
    CONTAINER_DOWN = "container_down", "Container not running"
    CRASH_LOOP = "crash_loop", "Container restarting in a loop"
    UNHEALTHY = "unhealthy", "Health check failing"
    UPTIME = "uptime", "Uptime check failing"
    CERTIFICATE = "certificate", "Certificate expiring"
    BACKUP_FAILED = "backup_failed", "Backup failed"
    BACKUP_AGE = "backup_age", "No recent backup"
    VERIFY_AGE = "verify_age", "No recent verified restore"
    DISK_FILL = "disk_fill", "Disk fills up soon"
    REBOOTED = "rebooted", "Server rebooted"
    HOST_KEY = "host_key", "Host key changed"
    DEPLOY_FAILED = "deploy_failed", "Deploy failed"


class AlertRule(models.Model):
    """A team's own threshold for a kind of alert, for one server or (server empty) all of
    them; kinds without a rule use their defaults."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    server = models.ForeignKey(
        "servers.Server", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    threshold = models.FloatField()
    minutes = models.PositiveIntegerField(default=0)  # how long it must hold
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "kind", "server"], name="rule_per_server"),
            models.UniqueConstraint(
                fields=["team", "kind"], condition=models.Q(server=None), name="rule_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ≥ {self.threshold}"


class Alert(models.Model):
    """A condition that held: open while it holds (once, however many rounds see it), then
    resolved. People acknowledge it or silence it for a while."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    server = models.ForeignKey(
        "servers.Server", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=255, blank=True)  # a mount, a container, an accessory
    title = models.CharField(max_length=255)
    detail = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    silenced_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "kind", "server", "subject"],
                condition=models.Q(resolved_at=None),
                name="one_open_alert",
            )
        ]
        indexes = [models.Index(fields=["team", "resolved_at"], name="alert_team_open")]

    def __str__(self) -> str:
        return self.title


class Channel(models.Model):
    """Where notifications go: an apprise URL (it holds tokens: stored encrypted, shown only by
    its scheme and host), for every kind of alert or those listed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    url = EncryptedTextField()
    shown = models.CharField(max_length=120)  # scheme://host, nothing secret
    kinds = models.JSONField(default=list, blank=True)  # empty: every kind
    deploys = models.BooleanField(default=False)  # told of every deploy that succeeds too
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="channel_per_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_labels(self) -> list[str]:
        return [AlertKind(kind).label for kind in self.kinds if kind in AlertKind.values]


class Delivery(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, given up"


class Notification(models.Model):
    """The outbox: one message for one channel, sent with retries and backoff; each attempt's
    outcome kept."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=16)  # opened, resolved, test
    title = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.event}: {self.title} ({self.status})"


class UptimeCheck(models.Model):
    """An address the panel asks over HTTP(S) every minute: each app domain (kept in step with
    the app), or one a person added."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500, validators=[validate_check_url])
    app = models.ForeignKey(
        "deployments.App", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)  # checks failed in a row
    certificate_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]
        constraints = [models.UniqueConstraint(fields=["team", "url"], name="check_per_team")]

    def __str__(self) -> str:
        return self.url


class UptimeResult(models.Model):
    uptime_check = models.ForeignKey(UptimeCheck, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField()
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["uptime_check", "at"], name="result_check_at")]

    def __str__(self) -> str:
        return f"{self.uptime_check_id} at {self.at:%Y-%m-%d %H:%M}: {'up' if self.ok else 'down'}"
