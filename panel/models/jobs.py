from __future__ import annotations

from django.conf import settings
from django.db import models

from panel.log_kinds import LogKind


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    INTERRUPTED = "interrupted", "Interrupted"
    WAITING = "waiting", "Waiting"  # paused until a person (or another job) lets it go on


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING)


class JobKind(models.TextChoices):
    """Every kind of job, one closed set; each has the audit action of its start
    (`AuditAction.JOB_*`, the same value behind `job.`)."""

    SERVER_CHECK = "server.check", "Check"
    SERVER_BOOTSTRAP = "server.bootstrap", "Bootstrap"
    SERVER_EXEC = "server.exec", "Server command"
    SERVER_CLEANUP = "server.cleanup", "Docker cleanup"
    SERVER_UPDATES = "server.updates", "Check for updates"
    SERVER_UPGRADE = "server.upgrade", "OS upgrade"
    SERVER_REBOOT = "server.reboot", "Reboot"
    SERVER_ACCESS = "server.access", "Team SSH access"
    SERVER_HARDEN = "server.harden", "SSH hardening"
    SERVER_FIREWALL = "server.firewall", "Firewall"
    RUNBOOK_RUN = "runbook.run", "Runbook"
    APP_DEPLOY = "app.deploy", "Deploy"
    APP_REDEPLOY = "app.redeploy", "Redeploy"
    APP_ROLLBACK = "app.rollback", "Rollback"
    APP_RESTART = "app.restart", "Restart"
    APP_STOP = "app.stop", "Stop"
    APP_START = "app.start", "Start"
    APP_REMOVE = "app.remove", "Remove"
    APP_EXEC = "app.exec", "App command"
    ACCESSORY_BOOT = "accessory.boot", "Accessory boot"
    ACCESSORY_REBOOT = "accessory.reboot", "Accessory reboot"
    ACCESSORY_REMOVE = "accessory.remove", "Accessory removal"
    ACCESSORY_START = "accessory.start", "Accessory start"
    ACCESSORY_STOP = "accessory.stop", "Accessory stop"
    ACCESSORY_RESTART = "accessory.restart", "Accessory restart"
    ACCESSORY_EXEC = "accessory.exec", "Accessory command"
    ACCESSORY_LINK = "accessory.link", "Link"
    ACCESSORY_UNLINK = "accessory.unlink", "Unlink"
    ACCESSORY_ROTATE = "accessory.rotate", "Password rotation"
    BACKUP_RUN = "backup.run", "Backup"
    BACKUP_SCRATCH = "backup.scratch", "Restore to a scratch copy"
    BACKUP_SCRATCH_REMOVE = "backup.scratch_remove", "Scratch copy removal"
    BACKUP_PROMOTE = "backup.promote", "Restore into live"
    BACKUP_VERIFY = "backup.verify", "Restore verification"
    BACKUP_CHECK = "backup.check", "Repository check"
    BACKUP_LIST = "backup.list", "Snapshot listing"
    BACKUP_PANEL = "backup.panel", "Backup of the panel's database"
    BACKUP_FILES_RESTORE = "backup.files_restore", "Restore of volumes into live"
    ACCESSORY_UPGRADE = "accessory.upgrade", "Accessory upgrade"
    ACCESSORY_UPGRADE_REVERT = "accessory.upgrade_revert", "Upgrade revert"
    ACCESSORY_KEPT_REMOVE = "accessory.kept_remove", "Removal of data kept from before an upgrade"
    AUDIT_VERIFY = "audit.verify", "Audit verification"


class Job(models.Model):
    kind = models.CharField(max_length=64, choices=JobKind.choices)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="jobs")
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    next_seq = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["team", "-id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.target_label} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class JobLogLine(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    kind = models.CharField(max_length=4, choices=LogKind.choices, default=LogKind.INFO)
    text = models.TextField()

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="one_line_per_seq")]

    def __str__(self) -> str:
        return self.text


class Lock(models.Model):
    """A named lock held by a job; the fence grows on every acquire (a fencing token)."""

    name = models.CharField(max_length=200, unique=True)
    holder = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="locks"
    )
    fence = models.PositiveBigIntegerField(default=0)
    acquired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
