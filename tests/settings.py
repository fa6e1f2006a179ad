"""Test settings: the real settings, with a throwaway data directory and fast hashing."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PANEL_DATA_DIR", tempfile.mkdtemp(prefix="panel-test-"))
os.environ["PANEL_ENV"] = "test"

from panel.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PANEL_JOB_HEARTBEAT_SECONDS = 0.2
REDIS_URL = ""
PANEL_TLS_ISSUER = "internal"
PANEL_GIT_ALLOW_LOCAL = True
PANEL_CHECK_TAGS = False  # tests that ask a registry turn it on, for the lab's registry

# A file, not shared-cache memory: threads (job keepers, async views) then wait for locks
# instead of failing with "table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(PANEL_DATA_DIR / "test.sqlite3")}  # noqa: F405
