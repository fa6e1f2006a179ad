from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ActorType(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    WEBHOOK = "webhook", "Webhook"
    SCHEDULE = "schedule", "Schedule"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    """Every action the audit trail records: one closed set, so the audit page can list them,
    a filter cannot miss one, and a misspelt action is an error, not a new kind of event.

    `job.<kind>` is recorded when someone starts a job of that kind; the other actions when the
    change they name is made (by a person, a token, or a job on its starter's behalf)."""

    TEAM_CREATE = "team.create", "Team created"
    MEMBER_ADD = "member.add", "Member added"
    MEMBER_ROLE = "member.role", "Member's role changed"
    MEMBER_REMOVE = "member.remove", "Member removed"
    MEMBER_INVITE = "member.invite", "Member invited"
    TEAM_TWO_FACTOR = "team.two_factor", "Two-factor sign-in required or not"
    TWO_FACTOR_ON = "account.two_factor.on", "Two-factor sign-in turned on"
    TWO_FACTOR_OFF = "account.two_factor.off", "Two-factor sign-in turned off"
    RECOVERY_CODES = "account.two_factor.codes", "New recovery codes made"
    INVITATION_REVOKE = "member.invite.revoke", "Invitation revoked"
    TOKEN_CREATE = "token.create", "API token created"
    TOKEN_REVOKE = "token.revoke", "API token revoked"
    SSH_KEY_GENERATE = "ssh_key.generate", "SSH key generated"
    SSH_KEY_IMPORT = "ssh_key.import", "SSH key imported"
    SSH_KEY_DELETE = "ssh_key.delete", "SSH key deleted"
    SERVER_CREATE = "server.create", "Server added"
    SERVER_UPDATE = "server.update", "Server changed"
    SERVER_DELETE = "server.delete", "Server deleted"
    SERVER_HOST_KEY_TRUST = "server.host_key_trust", "Host key trusted"
    SERVER_HOST_KEY_RETRUST = "server.host_key_retrust", "Changed host key trusted"
    SERVER_HOST_KEY_CHANGED = "server.host_key_changed", "Host key changed"
    SERVER_HOST_KEY_MISMATCH = "server.host_key_mismatch", "Host key not the one given"
    APP_CREATE = "app.create", "App created"
    APP_UPDATE = "app.update", "App changed"
    APP_IMPORT = "app.import", "App imported from Kamal"
    APP_REMOVE = "app.remove", "App removed"
    APP_STOP = "app.stop", "App stopped"
    APP_START = "app.start", "App started"
    APP_ENV_SET = "app.env.set", "Variable set"
    APP_ENV_DELETE = "app.env.delete", "Variable removed"
    APP_LOCK_RELEASE = "app.lock.release", "Deploy lock released"
    APP_GIT_HOST_KEY_TRUST = "app.git_host_key.trust", "Git host key trusted"
    APP_GIT_HOST_KEY_FORGET = "app.git_host_key.forget", "Git host key forgotten"
    APP_WEBHOOK_SET = "app.webhook.set", "Webhook set up"
    APP_WEBHOOK_SECRET = "app.webhook.secret", "Webhook secret replaced"
    APP_WEBHOOK_REMOVE = "app.webhook.remove", "Webhook removed"
    ACCESSORY_CREATE = "accessory.create", "Accessory created"
    ACCESSORY_BOOTED = "accessory.booted", "Accessory booted"
    ACCESSORY_REMOVE = "accessory.remove", "Accessory removed"
    ACCESSORY_LINKED = "accessory.linked", "App linked"
    ACCESSORY_UNLINKED = "accessory.unlinked", "App unlinked"
    ACCESSORY_ROTATED = "accessory.rotated", "Link password rotated"
    ACCESSORY_FILE_SET = "accessory.file.set", "Accessory file set"
    ACCESSORY_FILE_REMOVE = "accessory.file.remove", "Accessory file removed"
    ACCESSORY_PASSWORD_SHOWN = "accessory.password.shown", "Accessory password shown"
    REPOSITORY_CREATE = "repository.create", "Backup repository added"
    BACKUP_DONE = "backup.done", "Backup made"
    BACKUP_FAILED = "backup.failed", "Backup failed"
    SCRATCH_MADE = "backup.scratch.made", "Backup restored to a scratch copy"
    SCRATCH_REMOVED = "backup.scratch.removed", "Scratch copy removed"
    BACKUP_FILE_DOWNLOADED = "backup.file.downloaded", "File downloaded from a backup"
    ALERT_ACKNOWLEDGED = "alert.acknowledged", "Alert acknowledged"
    ALERT_SILENCED = "alert.silenced", "Alert silenced"
    ALERT_RULE_SET = "alert.rule.set", "Alert rule set"
    CHANNEL_CREATE = "channel.create", "Notification channel added"
    CHANNEL_REMOVE = "channel.remove", "Notification channel removed"
    CHANNEL_TEST = "channel.test", "Test notification sent"
    UPTIME_CHECK_CREATE = "uptime.create", "Uptime check added"
    UPTIME_CHECK_REMOVE = "uptime.remove", "Uptime check removed"
    LIVE_RESTORED = "backup.live.restored", "Backup restored into live"
    LIVE_RESTORE_FAILED = "backup.live.failed", "Restore into live failed; live data kept"
    RESTORE_VERIFIED = "backup.verified", "Restore verified"
    RESTORE_VERIFY_FAILED = "backup.verify.failed", "Restore verification failed"
    REPOSITORY_CHECKED = "repository.checked", "Repository checked"
    ACCESSORY_UPGRADED = "accessory.upgraded", "Accessory upgraded"
    ACCESSORY_UPGRADE_FAILED = "accessory.upgrade.failed", "Accessory upgrade failed; reverted"
    ACCESSORY_UPGRADE_REVERTED = "accessory.upgrade.reverted", "Accessory upgrade reverted"
    ACCESSORY_KEPT_DATA_REMOVED = (
        "accessory.kept.removed",
        "Data kept from before an upgrade removed",
    )
    POLICY_CREATE = "backup.policy.create", "Backup schedule added"
    POLICY_DELETE = "backup.policy.delete", "Backup schedule removed"
    PANEL_POLICY_SET = "backup.panel.policy", "Backup of the panel's database set"
    RELEASE_LIVE = "release.live", "Release live"
    RELEASE_FAIL = "release.fail", "Release failed"
    RELEASE_SWITCH_REVERT = "release.switch_revert", "Switch reverted"
    JOB_CANCEL = "job.cancel", "Job cancelled"
    JOB_INTERRUPTED = "job.interrupted", "Job interrupted"
    JOB_SERVER_CHECK = "job.server.check", "Check started"
    JOB_SERVER_BOOTSTRAP = "job.server.bootstrap", "Bootstrap started"
    JOB_SERVER_EXEC = "job.server.exec", "Server command started"
    JOB_SERVER_CLEANUP = "job.server.cleanup", "Docker cleanup started"
    JOB_SERVER_UPDATES = "job.server.updates", "Check for updates started"
    JOB_SERVER_UPGRADE = "job.server.upgrade", "OS upgrade started"
    JOB_SERVER_REBOOT = "job.server.reboot", "Reboot started"
    JOB_SERVER_ACCESS = "job.server.access", "Team SSH access sync started"
    JOB_SERVER_HARDEN = "job.server.harden", "SSH hardening started"
    JOB_SERVER_FIREWALL = "job.server.firewall", "Firewall apply started"
    JOB_RUNBOOK_RUN = "job.runbook.run", "Runbook started"
    RUNBOOK_CREATE = "runbook.create", "Runbook created"
    RUNBOOK_UPDATE = "runbook.update", "Runbook changed"
    RUNBOOK_DELETE = "runbook.delete", "Runbook removed"
    RUNBOOK_CONFIRM = "runbook.confirm", "Runbook step confirmed"
    MEMBER_KEY_ADD = "account.ssh_key.add", "Own SSH key added"
    MEMBER_KEY_REMOVE = "account.ssh_key.remove", "Own SSH key removed"
    ACCESS_GRANT = "server.access.grant", "SSH access granted"
    ACCESS_REVOKE = "server.access.revoke", "SSH access revoked"
    UPGRADE_WINDOW_SET = "server.upgrade_window", "Upgrade window set"
    FIREWALL_SET = "server.firewall", "Firewall rules set"
    CLEANUP_SCHEDULED = "server.cleanup.scheduled", "Docker cleanup scheduled"
    COLLECTION_INTERVAL = "server.collection.interval", "Collection interval set"
    JOB_APP_DEPLOY = "job.app.deploy", "Deploy started"
    JOB_APP_REDEPLOY = "job.app.redeploy", "Redeploy started"
    JOB_APP_ROLLBACK = "job.app.rollback", "Rollback started"
    JOB_APP_RESTART = "job.app.restart", "Restart started"
    JOB_APP_STOP = "job.app.stop", "Stop started"
    JOB_APP_START = "job.app.start", "Start started"
    JOB_APP_REMOVE = "job.app.remove", "Removal started"
    JOB_APP_EXEC = "job.app.exec", "App command started"
    JOB_AUDIT_VERIFY = "job.audit.verify", "Audit verification started"
    JOB_ACCESSORY_BOOT = "job.accessory.boot", "Accessory boot started"
    JOB_ACCESSORY_REBOOT = "job.accessory.reboot", "Accessory reboot started"
    JOB_ACCESSORY_REMOVE = "job.accessory.remove", "Accessory removal started"
    JOB_ACCESSORY_START = "job.accessory.start", "Accessory start started"
    JOB_ACCESSORY_STOP = "job.accessory.stop", "Accessory stop started"
    JOB_ACCESSORY_RESTART = "job.accessory.restart", "Accessory restart started"
    JOB_ACCESSORY_EXEC = "job.accessory.exec", "Accessory command started"
    JOB_ACCESSORY_LINK = "job.accessory.link", "Link started"
    JOB_ACCESSORY_UNLINK = "job.accessory.unlink", "Unlink started"
    JOB_ACCESSORY_ROTATE = "job.accessory.rotate", "Password rotation started"
    JOB_BACKUP_RUN = "job.backup.run", "Backup started"
    JOB_BACKUP_SCRATCH = "job.backup.scratch", "Restore to a scratch copy started"
    JOB_BACKUP_SCRATCH_REMOVE = "job.backup.scratch_remove", "Scratch copy removal started"
    JOB_BACKUP_PROMOTE = "job.backup.promote", "Restore into live started"
    JOB_BACKUP_VERIFY = "job.backup.verify", "Restore verification started"
    JOB_BACKUP_CHECK = "job.backup.check", "Repository check started"
    JOB_BACKUP_LIST = "job.backup.list", "Snapshot listing started"
    JOB_BACKUP_PANEL = "job.backup.panel", "Backup of the panel's database started"
    JOB_BACKUP_FILES_RESTORE = "job.backup.files_restore", "Restore of volumes started"
    JOB_ACCESSORY_UPGRADE = "job.accessory.upgrade", "Accessory upgrade started"
    JOB_ACCESSORY_UPGRADE_REVERT = "job.accessory.upgrade_revert", "Upgrade revert started"
    JOB_ACCESSORY_KEPT_REMOVE = "job.accessory.kept_remove", "Kept data removal started"


class AuditEvent(models.Model):
    """Append-only: each row carries the hash of the previous one (see panel.audit)."""

    at = models.DateTimeField(db_index=True)
    team = models.ForeignKey(
        "panel.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team_label = models.CharField(max_length=100, blank=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True, choices=AuditAction.choices)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["team", "-id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers chain one after another."""

    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.last_hash
