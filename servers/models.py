from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from panel.fields import EncryptedTextField
from servers.validators import validate_host, validate_name, validate_posix_user


class SshKey(models.Model):
    """A client key the panel logs in with; the private half never leaves the database."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="ssh_keys")
    name = models.CharField(max_length=63, validators=[validate_name])
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=100)
    private_key = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="ssh_key_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def authorized_keys_line(self) -> str:
        return f"{self.public_key} panel-{self.name}"


class HostKeyState(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Not confirmed"
    TRUSTED = "trusted", "Trusted"
    CHANGED = "changed", "Host key changed"


class Server(models.Model):
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="servers")
    name = models.CharField(max_length=63, validators=[validate_name])
    host = models.CharField(max_length=253, validators=[validate_host])
    port = models.PositiveIntegerField(
        default=22, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    user = models.CharField(max_length=32, default="root", validators=[validate_posix_user])
    ssh_key = models.ForeignKey(SshKey, on_delete=models.PROTECT, related_name="servers")
    labels = models.JSONField(default=list, blank=True)
    proxy_image = models.CharField(
        max_length=255, blank=True, help_text="Caddy image for the proxy; empty for the default."
    )

    host_key_state = models.CharField(
        max_length=16, choices=HostKeyState.choices, default=HostKeyState.UNCONFIRMED
    )
    host_key = models.TextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    offered_host_key = models.TextField(blank=True)
    offered_host_key_fingerprint = models.CharField(max_length=100, blank=True)
    # The fingerprint the user gave when adding the server, while the host presents another.
    expected_host_key_fingerprint = models.CharField(max_length=100, blank=True)

    reachable = models.BooleanField(null=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    docker_version = models.CharField(max_length=64, blank=True)
    proxy_running = models.BooleanField(null=True)
    facts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="server_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.user}@{self.host}" + (f":{self.port}" if self.port != 22 else "")

    @property
    def is_trusted(self) -> bool:
        return self.host_key_state == HostKeyState.TRUSTED and bool(self.host_key)


class ServerUpdates(models.Model):
    """The last check for updates of a server: what apt would upgrade (`servers.updates`),
    with the counts the dashboard sums kept beside it."""

    server = models.OneToOneField(
        Server, primary_key=True, on_delete=models.CASCADE, related_name="updates"
    )
    checked_at = models.DateTimeField()
    report = models.JSONField(default=dict)
    pending = models.PositiveIntegerField(default=0)
    security = models.PositiveIntegerField(default=0)
    reboot_required = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"updates of {self.server_id}"


class MemberKey(models.Model):
    """A person's own public SSH key; on the servers an admin grants them, it is in the
    panel's block of the login's `authorized_keys`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ssh_public_keys"
    )
    name = models.CharField(max_length=63, validators=[validate_name])
    public_key = models.TextField()  # `type base64`
    fingerprint = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="member_key_name"),
            models.UniqueConstraint(fields=["user", "fingerprint"], name="member_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint})"


class ServerAccess(models.Model):
    """An admin's grant: this member logs in to this server as `login` with their keys."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="access")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    login = models.CharField(max_length=32, validators=[validate_posix_user])
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["login", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["server", "user", "login"], name="access_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} as {self.login} on {self.server_id}"


class ManagedLogin(models.Model):
    """A login whose `authorized_keys` holds the panel's block: the keys written last, and
    keys found outside the block that the panel does not know (drift)."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="managed_logins")
    login = models.CharField(max_length=32, validators=[validate_posix_user])
    fingerprints = models.JSONField(default=list)
    outside = models.JSONField(default=list)  # [{"fingerprint", "comment"}]
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["login"]
        constraints = [
            models.UniqueConstraint(fields=["server", "login"], name="managed_login_once")
        ]

    def __str__(self) -> str:
        return f"{self.login} on {self.server_id}"


class Firewall(models.Model):
    """A server's allowed ports (`servers.firewall.Rule` as dicts), and what the panel applied
    last: its rules and the live state right after, which drift is measured against."""

    server = models.OneToOneField(
        Server, primary_key=True, on_delete=models.CASCADE, related_name="firewall"
    )
    rules = models.JSONField(default=list)
    applied_rules = models.JSONField(default=list)
    applied_state = models.JSONField(default=list)
    applied_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"firewall of {self.server_id}"

    @property
    def pending(self) -> bool:
        return bool(self.rules != self.applied_rules)
