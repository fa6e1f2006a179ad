from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from backups.commands import FILES_INSIDE
from backups.validators import (
    validate_access_key,
    validate_bucket,
    validate_endpoint,
    validate_folder,
    validate_prefix,
    validate_region,
    validate_schedule,
)
from deployments.accessory_links import validate_identifier
from panel.fields import EncryptedTextField
from panel.validators import validate_image_reference
from servers.validators import validate_name


def keep_options(**counts: int) -> list[str]:
    """restic's `forget --keep-<name>=<count>` options, for the counts that are not 0."""
    return [f"--keep-{name}={count}" for name, count in counts.items() if count]


class RepositoryKind(models.TextChoices):
    LOCAL = "local", "A folder on a server"
    SFTP = "sftp", "SFTP to another of our servers"
    S3 = "s3", "S3-compatible storage"


class Repository(models.Model):
    """A restic repository. Its password is generated and encrypted here, and reaches restic
    only through a 0600 file; so do the S3 secret key and the SFTP key (one per repository,
    allowed SFTP only on the server that holds it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="repositories")
    name = models.CharField(max_length=40, validators=[validate_name])
    kind = models.CharField(max_length=8, choices=RepositoryKind.choices)
    server = models.ForeignKey(  # the server the folder is on (local or over SFTP)
        "servers.Server", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    folder = models.CharField(max_length=255, blank=True, validators=[validate_folder])
    endpoint = models.CharField(max_length=255, blank=True, validators=[validate_endpoint])
    bucket = models.CharField(max_length=63, blank=True, validators=[validate_bucket])
    prefix = models.CharField(max_length=200, blank=True, validators=[validate_prefix])
    region = models.CharField(max_length=40, blank=True, validators=[validate_region])
    access_key = models.CharField(max_length=128, blank=True, validators=[validate_access_key])
    secret_key = EncryptedTextField(blank=True, default="")
    sftp_key = EncryptedTextField(blank=True, default="")  # private, OpenSSH format
    sftp_public_key = models.TextField(blank=True)
    password = EncryptedTextField()
    image = models.CharField(
        max_length=255, default="restic/restic:0.17.3", validators=[validate_image_reference]
    )
    opened_at = models.DateTimeField(null=True, blank=True)  # first opened (or made) by a job
    # Its snapshots as restic last listed them (any tool's): id, time, host, tags, paths.
    snapshots = models.JSONField(default=list, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)  # its stored data, when listed
    checked_at = models.DateTimeField(null=True, blank=True)  # restic's check, last run
    check_error = models.TextField(blank=True)  # what it found then; blank: nothing
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="repository_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def lock_name(self) -> str:
        return f"repository:{self.pk}"

    @property
    def location(self) -> str:
        """Where restic finds it, as the page shows it (no secret in it)."""
        if self.kind == RepositoryKind.S3:
            return f"s3:{self.endpoint.rstrip('/')}/{self.bucket}" + (
                f"/{self.prefix}" if self.prefix else ""
            )
        place = f"{self.server.name if self.server else '?'}:{self.folder}"
        return f"sftp:{place}" if self.kind == RepositoryKind.SFTP else place


class Backup(models.Model):
    """One backup run's result: a snapshot and what it cost, or the reason it failed."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="backups")
    accessory = models.ForeignKey(
        "deployments.Accessory", null=True, on_delete=models.SET_NULL, related_name="backups"
    )
    of_panel = models.BooleanField(default=False)  # the panel's own database
    job = models.ForeignKey("panel.Job", null=True, on_delete=models.SET_NULL, related_name="+")
    succeeded = models.BooleanField(default=False)
    snapshot_id = models.CharField(max_length=64, blank=True)
    bytes_read = models.BigIntegerField(default=0)
    bytes_added = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    # The rows per table when the dump was taken (counted before and after it, kept only when
    # both agree); what a verification compares a restored copy with.
    rows = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.snapshot_id[:8] or f"backup {self.pk}"

    @property
    def of_files(self) -> bool:
        """A snapshot of volumes' files (rather than of a dump)."""
        return self.rows.startswith(f"{FILES_INSIDE} ")


class ScratchCopy(models.Model):
    """A backup restored into a new container beside its accessory, for a look before anything
    touches the live data; its summary is the rows per table it found."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    accessory = models.ForeignKey(
        "deployments.Accessory", on_delete=models.CASCADE, related_name="scratch_copies"
    )
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey("panel.Job", null=True, on_delete=models.SET_NULL, related_name="+")
    container = models.CharField(max_length=100)
    own_name = models.CharField(max_length=63, blank=True)  # its kind's {copy}
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.container


class Policy(models.Model):
    """When an accessory is backed up, to which repositories, and what each of them keeps."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    accessory = models.ForeignKey(
        "deployments.Accessory", on_delete=models.CASCADE, related_name="policies"
    )
    repositories = models.ManyToManyField(Repository, related_name="policies")
    schedule = models.CharField(max_length=100, validators=[validate_schedule])
    keep_last = models.PositiveSmallIntegerField(default=7)
    keep_daily = models.PositiveSmallIntegerField(default=7)
    keep_weekly = models.PositiveSmallIntegerField(default=4)
    keep_monthly = models.PositiveSmallIntegerField(default=6)
    timeout_minutes = models.PositiveIntegerField(
        default=360, validators=[MinValueValidator(1), MaxValueValidator(48 * 60)]
    )  # a backup running longer fails
    # When its latest backup is restored into a throwaway copy and checked; blank: never.
    verify_schedule = models.CharField(
        max_length=100, blank=True, default="0 5 * * 0", validators=[validate_schedule]
    )
    # A verification's own check, besides the rows: a query in a database of the restored copy,
    # and what it must print.
    check_database = models.CharField(max_length=30, blank=True, validators=[validate_identifier])
    check_query = models.TextField(blank=True)
    check_expected = models.TextField(blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_verify_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.accessory} at {self.schedule}"

    @property
    def keep(self) -> list[str]:
        """restic's `forget` options for what this policy keeps."""
        return keep_options(last=self.keep_last, daily=self.keep_daily, weekly=self.keep_weekly,
                            monthly=self.keep_monthly)  # fmt: skip


class Verification(models.Model):
    """A backup restored into a throwaway copy, checked, and the copy removed: whether it
    restores, proven rather than hoped."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    accessory = models.ForeignKey(
        "deployments.Accessory", on_delete=models.CASCADE, related_name="verifications"
    )
    backup = models.ForeignKey(Backup, null=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("panel.Job", null=True, on_delete=models.SET_NULL, related_name="+")
    passed = models.BooleanField(default=False)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'passed' if self.passed else 'failed'} {self.created_at:%Y-%m-%d %H:%M}"


class UpgradeStatus(models.TextChoices):
    UPGRADED = "upgraded", "Upgraded"
    REVERTED = "reverted", "Reverted"
    FAILED = "failed", "Failed; the old image runs again"


class Upgrade(models.Model):
    """An accessory moved to another image after a backup. A PostgreSQL major upgrade (dump and
    restore) keeps the old data in a volume of its own until it is removed, or reverted to."""

    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    accessory = models.ForeignKey(
        "deployments.Accessory", on_delete=models.CASCADE, related_name="upgrades"
    )
    job = models.ForeignKey("panel.Job", null=True, on_delete=models.SET_NULL, related_name="+")
    from_image = models.CharField(max_length=255)
    to_image = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=UpgradeStatus.choices)
    detail = models.TextField(blank=True)
    kept_volume = models.CharField(max_length=200, blank=True)  # the data from before, kept
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.from_image} → {self.to_image}"


class PanelPolicy(models.Model):
    """The panel's own database, backed up: into which repository, through which server (restic
    runs there; the database is streamed to it over SSH), when, and what is kept. One only."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="+")
    server = models.ForeignKey("servers.Server", on_delete=models.PROTECT, related_name="+")
    schedule = models.CharField(max_length=100, validators=[validate_schedule])
    keep_last = models.PositiveSmallIntegerField(default=7)
    keep_daily = models.PositiveSmallIntegerField(default=14)
    last_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"the panel's database into {self.repository}"

    @property
    def keep(self) -> list[str]:
        return keep_options(last=self.keep_last, daily=self.keep_daily)
