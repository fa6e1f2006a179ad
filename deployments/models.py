from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from deployments.webhook_signatures import Provider
from panel.fields import EncryptedTextField
from panel.schedules import validate_schedule
from panel.validators import validate_image_reference
from servers.validators import validate_name


class App(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="apps")
    name = models.CharField(max_length=40, validators=[validate_name])
    image = models.CharField(
        max_length=255,
        validators=[validate_image_reference],
        help_text="Repository without tag, e.g. registry.example.com/team/shop",
    )
    registry_username = models.CharField(max_length=100, blank=True)
    registry_password = EncryptedTextField(blank=True, default="")
    container_port = models.PositiveIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    health_path = models.CharField(max_length=200, default="/up")
    health_interval = models.FloatField(default=1.0, validators=[MinValueValidator(0.1)])
    health_timeout = models.FloatField(default=5.0, validators=[MinValueValidator(0.1)])
    deploy_timeout = models.PositiveIntegerField(default=30, validators=[MinValueValidator(1)])
    drain_timeout = models.PositiveIntegerField(default=5)
    stop_timeout = models.PositiveIntegerField(default=10)
    retain_releases = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    volumes = models.JSONField(default=list, blank=True)
    domains = models.JSONField(default=list, blank=True)
    git_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="Build from this repository instead of pulling a ready image.",
    )
    git_branch = models.CharField(max_length=200, blank=True, default="main")
    git_token = EncryptedTextField(blank=True, default="")
    git_key = models.ForeignKey(
        "servers.SshKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # known_hosts lines of the git host, learned on the first fetch over ssh; then required.
    git_host_key = models.TextField(blank=True, default="")
    build_server = models.ForeignKey(
        "servers.Server",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where images are built; empty: the first web server.",
    )
    dockerfile = models.CharField(max_length=300, default="Dockerfile")
    build_args = EncryptedTextField(blank=True, default="")
    build_context = models.CharField(max_length=300, blank=True)
    tls = models.BooleanField(
        default=False, help_text="Serve the domains over HTTPS with certificates the proxy gets."
    )
    redirect_http = models.BooleanField(default=True, help_text="With HTTPS: send HTTP to HTTPS.")
    pre_deploy_command = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Runs in a one-off container of the new release before it starts (e.g. "
        "migrations); a failure stops the deploy.",
    )
    post_deploy_command = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Runs in a one-off container of the new release once it is live.",
    )
    current_release = models.ForeignKey(
        "deployments.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The `x-` keys of the Kamal configuration it was imported from, written back on export.
    kamal_extensions = models.JSONField(default=dict, blank=True)
    stopped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="app_name_per_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def lock_name(self) -> str:
        return f"app:{self.pk}"


class Role(models.Model):
    """A group of containers of one app: `web` is proxied, others (workers) are not."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=31, default="web")
    command = models.CharField(max_length=1000, blank=True)
    servers = models.ManyToManyField("servers.Server", related_name="roles", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["app", "name"], name="role_name_per_app")]

    def __str__(self) -> str:
        return f"{self.app.name}/{self.name}"

    @property
    def proxied(self) -> bool:
        return self.name == "web"


class EnvVar(models.Model):
    """One environment variable; every value is encrypted at rest, secret ones are never shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="env")
    role = models.CharField(max_length=31, blank=True, help_text="Empty: every role.")
    key = models.CharField(max_length=128)
    value = EncryptedTextField()
    secret = models.BooleanField(default=False)
    for_containers = models.BooleanField(default=True)
    for_build = models.BooleanField(
        default=False, help_text="Mounted as a BuildKit secret in builds from git."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key", "role"]
        constraints = [
            models.UniqueConstraint(fields=["app", "role", "key"], name="env_key_per_app_role")
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def uses(self) -> str:
        return " + ".join(
            use
            for use, on in (("containers", self.for_containers), ("build", self.for_build))
            if on
        )


class ReleaseStatus(models.TextChoices):
    PENDING = "pending", "Deploying"
    LIVE = "live", "Live"
    FAILED = "failed", "Failed"
    RETIRED = "retired", "Retired"


class ReleaseQuerySet(models.QuerySet["Release"]):
    def retained(self, app: App) -> ReleaseQuerySet:
        """What can be rolled back to, newest first: the live release and the retired ones
        still kept on the servers (the app's `retain_releases`). Failed ones never."""
        kept = self.filter(app=app, status__in=[ReleaseStatus.LIVE, ReleaseStatus.RETIRED])
        return kept.order_by("-id")[: app.retain_releases]


class Release(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=128)
    image = models.CharField(max_length=400)
    # The registry's digest of the image (repo@sha256:…) once a server pulled it: rollbacks
    # run exactly this image even if the tag moved since.
    image_digest = models.CharField(max_length=500, blank=True)
    commit = models.CharField(max_length=40, blank=True)
    commit_message = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.PENDING
    )
    job = models.ForeignKey(
        "panel.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, default="deploy")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    live_at = models.DateTimeField(null=True, blank=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.app.name}@{self.version}"

    @property
    def run_image(self) -> str:
        """The reference to pull and run: the digest where known, else the tag."""
        return self.image_digest or self.image


class Container(models.Model):
    """A container the panel started, so failures and the reaper know what to remove."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="containers")
    server = models.ForeignKey("servers.Server", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=31)
    name = models.CharField(max_length=200)
    running = models.BooleanField(default=True)
    # The proxy of its server sends the app's traffic here (recorded per server at the switch,
    # so a switch cut short is put back the way it was, server by server).
    serving = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class Accessory(models.Model):
    """A service beside the apps (a database, a cache, any image) on one server, reached by
    its name on the `panel` network. Its variables, password included, are encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="accessories")
    name = models.CharField(max_length=40, validators=[validate_name])
    server = models.ForeignKey(
        "servers.Server", on_delete=models.PROTECT, related_name="accessories"
    )
    kind = models.CharField(max_length=16, default="custom")
    image = models.CharField(max_length=255, validators=[validate_image_reference])
    command = models.CharField(max_length=1000, blank=True)
    volumes = models.JSONField(default=list, blank=True)
    publish = models.JSONField(default=list, blank=True)
    env = EncryptedTextField(blank=True, default="")  # a JSON object of names and values
    ready_timeout = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    port = models.PositiveIntegerField(default=0, help_text="The port it serves on; 0: none.")
    # For any image: a command run inside it that succeeds once it is ready (else its port).
    # The app whose Kamal configuration brought it in: exported with it.
    imported_with = models.ForeignKey(
        App, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ready_command = models.CharField(max_length=1000, blank=True)
    booted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="accessory_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def lock_name(self) -> str:
        return f"accessory:{self.pk}"


class AccessoryLink(models.Model):
    """An app given a database (and its user) inside an accessory, as a secret variable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    accessory = models.ForeignKey(Accessory, on_delete=models.CASCADE, related_name="links")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="accessory_links")
    variable = models.CharField(max_length=128)
    database = models.CharField(max_length=32)
    user = models.CharField(max_length=32)  # owns the database
    login = models.CharField(max_length=32, blank=True)  # the app's login; empty: the user
    number = models.PositiveSmallIntegerField(default=0)  # Redis: the database number
    password = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["app__name", "variable"]
        constraints = [
            models.UniqueConstraint(fields=["accessory", "user"], name="link_user_per_accessory"),
            models.UniqueConstraint(fields=["app", "variable"], name="link_variable_per_app"),
        ]

    def __str__(self) -> str:
        return f"{self.app} → {self.accessory} ({self.variable})"


class CleanupSchedule(models.Model):
    """A server's Docker cleanup on a schedule: every candidate at the time it runs (the
    preview on the disk page shows them), build cache older than `cache_days`; never volumes."""

    server = models.OneToOneField(
        "servers.Server", on_delete=models.CASCADE, primary_key=True, related_name="cleanup"
    )
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    schedule = models.CharField(max_length=100, validators=[validate_schedule])
    cache_days = models.PositiveIntegerField(default=7, validators=[MaxValueValidator(3650)])
    created_at = models.DateTimeField(auto_now_add=True)
    last_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"cleanup of {self.server_id}: {self.schedule}"


class UpgradeWindow(models.Model):
    """A server's upgrade window: at each tick a fresh check, then the upgrade of what it
    found (security updates alone by default), and a reboot if one is required and allowed;
    the reboot waits for the next window while alerts are open on the server."""

    server = models.OneToOneField(
        "servers.Server", on_delete=models.CASCADE, primary_key=True, related_name="upgrade_window"
    )
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    schedule = models.CharField(max_length=100, validators=[validate_schedule])
    scope = models.CharField(
        max_length=16,
        default="security",
        choices=[("security", "Security updates only"), ("all", "All updates")],
    )
    reboot = models.CharField(
        max_length=16,
        default="no",
        choices=[("no", "Never reboot"), ("if-required", "Reboot if required")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upgrade window of {self.server_id}: {self.schedule}"


class Webhook(models.Model):
    """Git pushes from a provider deploy the app. The id in its URL is unguessable; every
    delivery must be signed with the secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="+")
    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="webhook")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    secret = EncryptedTextField()
    branch = models.CharField(max_length=200, blank=True)
    tag_pattern = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refused_count = models.PositiveIntegerField(default=0)
    last_refused_at = models.DateTimeField(null=True, blank=True)
    last_refused_reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.app.name} webhook"


class DeliveryResult(models.TextChoices):
    RECEIVED = "received", "Received"
    DEPLOYED = "deployed", "Deploy started"
    QUEUED = "queued", "Queued behind a running deploy"
    REPLACED = "replaced", "Replaced by a newer push"
    DUPLICATE = "duplicate", "Already received"
    IGNORED = "ignored", "Ignored"
    PING = "ping", "Ping"
    REFUSED = "refused", "Not deployed"


class WebhookDelivery(models.Model):
    """One signed delivery; a provider's redelivery of the same one is not stored again."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    received_at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=60)
    delivery_id = models.CharField(max_length=100)
    body_digest = models.CharField(max_length=64)
    ref = models.CharField(max_length=250, blank=True)
    commit = models.CharField(max_length=40, blank=True)
    pusher = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    result = models.CharField(max_length=16, choices=DeliveryResult.choices)
    reason = models.CharField(max_length=300, blank=True)
    job = models.ForeignKey(
        "panel.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "delivery_id"], name="delivery_once"),
            models.UniqueConstraint(fields=["webhook", "body_digest"], name="delivery_body_once"),
        ]
        indexes = [models.Index(fields=["webhook", "result"])]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
