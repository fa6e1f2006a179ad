"""Settings from the environment (12-factor) with safe defaults for a first run."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from panel.keyfiles import load_or_create, new_encryption_key_line, new_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

PANEL_ENV = env.str("PANEL_ENV", default="development")
if PANEL_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("PANEL_ENV must be development, production or test.")
PRODUCTION = PANEL_ENV == "production"

PANEL_DATA_DIR = Path(env.str("PANEL_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
PANEL_DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

DEBUG = env.bool("DEBUG", default=False)

# Production never invents its secrets: a lost key file would silently orphan every secret.
SECRET_KEY = env.str("SECRET_KEY", default="") or load_or_create(
    PANEL_DATA_DIR / "secret_key", new_secret_key, create=not PRODUCTION
)
PANEL_ENCRYPTION_KEYS: list[str] = env.list("PANEL_ENCRYPTION_KEYS", default=[]) or (
    load_or_create(
        PANEL_DATA_DIR / "encryption_keys", new_encryption_key_line, create=not PRODUCTION
    ).split()
)
PANEL_ENCRYPTION_KEY_FILE = (
    None if env.list("PANEL_ENCRYPTION_KEYS", default=[]) else PANEL_DATA_DIR / "encryption_keys"
)

PANEL_BASE_URL = env.str("PANEL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The host of the base URL is the panel's own name, wherever a proxy in front answers for it.
# (An empty variable, as compose passes one left unset, means the same as none.)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or sorted(
    {"127.0.0.1", "localhost", urlsplit(PANEL_BASE_URL).hostname or "localhost"}
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PANEL_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "panel",
    "servers",
    "deployments",
    "backups",
    "monitoring",
    "runbooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "panel.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "panel.middleware.RefuseUnsafeInputMiddleware",
    "panel.middleware.SyncChain",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"
ASGI_APPLICATION = "panel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panel.context_processors.team_and_role",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{PANEL_DATA_DIR / 'panel.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A connection kept between a worker's jobs (checked before reuse).
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # IMMEDIATE makes writers queue instead of failing with "database is locked" on upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # WAL with NORMAL sync: a commit survives the panel crashing; only a power cut
            # may lose the last commits (the database itself stays whole).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Under ASGI each request's code runs in a thread of its own: a pool, not per-thread
    # persistent connections, saves PostgreSQL a new backend per request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "pool", {"min_size": 1, "max_size": env.int("PANEL_DB_POOL_SIZE", default=10)}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
OTP_TOTP_ISSUER = env.str("PANEL_TOTP_ISSUER", default="Panel")
PANEL_LOGIN_MAX_FAILURES = env.int("PANEL_LOGIN_MAX_FAILURES", default=5)
PANEL_LOGIN_WINDOW_SECONDS = env.int("PANEL_LOGIN_WINDOW_SECONDS", default=900)
# Only a proxy you run may set the client address; X-Forwarded-For is ignored unless trusted.
PANEL_TRUSTED_PROXY_COUNT = env.int("PANEL_TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# An image collects its static files when it is built, outside the data volume.
STATIC_ROOT = Path(env.str("PANEL_STATIC_ROOT", default=str(PANEL_DATA_DIR / "static")))
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
PANEL_INVITATION_HOURS = env.int("PANEL_INVITATION_HOURS", default=72)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="panel@localhost")

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or f"sqla+sqlite:///{PANEL_DATA_DIR / 'broker.sqlite3'}"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Received pushes have a queue of their own: a worker can be given to them alone.
CELERY_TASK_ROUTES = {"deployments.take_push": {"queue": "webhooks"}}
PANEL_WORKER_QUEUES = "celery,webhooks"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged job to another worker after this long: above the longest
# job's hard time limit (12 hours), or a job still running would be delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 13 * 3600} if REDIS_URL else {}
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {"task": "panel.reap_stale_jobs", "schedule": 15.0},
    "prune-job-logs": {"task": "panel.prune_job_logs", "schedule": 3600.0},
    "start-due-backups": {"task": "backups.start_due", "schedule": 60.0},
    "start-due-cleanups": {"task": "deployments.start_due_cleanups", "schedule": 60.0},
    "start-due-upgrades": {"task": "deployments.start_due_upgrades", "schedule": 60.0},
    "start-due-runbooks": {"task": "runbooks.start_due", "schedule": 60.0},
    "start-waiting-pushes": {"task": "deployments.start_waiting_pushes", "schedule": 60.0},
    # Each server is collected at its own interval (30 s by default); a round takes those due.
    "collect-metrics": {"task": "monitoring.collect", "schedule": 10.0},
    "roll-up-metrics": {"task": "monitoring.roll_up", "schedule": 60.0},
    "deliver-notifications": {"task": "monitoring.deliver", "schedule": 15.0},
    "check-uptime": {"task": "monitoring.uptime", "schedule": 60.0},
}
# Where the tasks beat names live, besides the apps' tasks modules.
CELERY_IMPORTS = [
    "backups.services", "monitoring.tasks", "deployments.services", "deployments.upkeep_services",
    "runbooks.services", "deployments.webhook_services",
]  # fmt: skip
CELERY_BEAT_SCHEDULE_FILENAME = str(PANEL_DATA_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Jobs: heartbeat every few seconds; a job silent for JOB_STALE_SECONDS is reaped as interrupted.
PANEL_JOB_HEARTBEAT_SECONDS = env.float("PANEL_JOB_HEARTBEAT_SECONDS", default=2.0)
PANEL_JOB_STALE_SECONDS = env.float("PANEL_JOB_STALE_SECONDS", default=30.0)
# Job logs are kept this many days after their job ends (0: for ever).
PANEL_JOB_LOG_DAYS = env.int("PANEL_JOB_LOG_DAYS", default=90)

# A dead-man's switch (a healthchecks.io check, say) asked after every collection round: when
# the panel itself stops, the switch notices the silence.
PANEL_HEARTBEAT_URL = env.str("PANEL_HEARTBEAT_URL", default="")

PANEL_PROXY_IMAGE = env.str("PANEL_PROXY_IMAGE", default="caddy:2")
# Before a deploy is queued, its registry is asked whether the tag exists; registries listed
# here are asked over plain http (as the servers' Docker is told with --insecure-registry).
PANEL_CHECK_TAGS = env.bool("PANEL_CHECK_TAGS", default=True)
PANEL_INSECURE_REGISTRIES: list[str] = env.list("PANEL_INSECURE_REGISTRIES", default=[])
# Who signs the proxies' certificates: "acme" (Let's Encrypt) or "internal" (Caddy's own CA,
# for closed networks and tests).
PANEL_TLS_ISSUER = env.str("PANEL_TLS_ISSUER", default="acme")
# Repositories on this machine's disk (file paths) are for tests only.
PANEL_GIT_ALLOW_LOCAL = env.bool("PANEL_GIT_ALLOW_LOCAL", default=False)
# A CA bundle for https repositories on hosts with a private CA (it replaces the system's).
PANEL_GIT_CA_FILE = env.str("PANEL_GIT_CA_FILE", default="")
if PANEL_TLS_ISSUER not in {"acme", "internal"}:
    raise ImproperlyConfigured("PANEL_TLS_ISSUER must be acme or internal.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Every channel would be logged at INFO; the job log already says what ran.
    "loggers": {"asyncssh": {"level": "WARNING"}},
}

# Scripts and styles only from the panel's own files: no inline code, handlers or eval, so an
# injected attribute cannot run; the panel may not be framed, nor post forms elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^up$"]  # the health check, asked over plain HTTP beside it
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
