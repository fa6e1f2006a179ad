from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from panel.keyfiles import new_encryption_key_line

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PANEL_", "DJANGO_"))}
    clean.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "panel.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_its_keys(tmp_path: Path) -> None:
    result = _manage("check", env={"PANEL_ENV": "production", "PANEL_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "secret_key is missing" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_the_first_development_run_creates_key_files_readable_only_by_the_owner(
    tmp_path: Path,
) -> None:
    result = _manage("check", env={"PANEL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    for name in ("secret_key", "encryption_keys"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    _manage("check", env={"PANEL_DATA_DIR": str(tmp_path)})
    (tmp_path / "encryption_keys").chmod(0o644)
    result = _manage("check", env={"PANEL_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "mode 0600" in result.stderr


def test_check_deploy_has_no_warnings_with_production_settings(tmp_path: Path) -> None:
    env = {
        "PANEL_ENV": "production",
        "PANEL_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 30 + new_encryption_key_line() * 2,
        "PANEL_ENCRYPTION_KEYS": new_encryption_key_line(),
        "ALLOWED_HOSTS": "panel.example.com",
        "PANEL_BASE_URL": "https://panel.example.com",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_an_empty_allowed_hosts_as_compose_passes_it_means_the_base_urls_host(
    tmp_path: Path,
) -> None:
    env = {"PANEL_DATA_DIR": str(tmp_path), "ALLOWED_HOSTS": "",
           "PANEL_BASE_URL": "https://panel.example.com"}  # fmt: skip
    result = _manage("shell", "-c", "from django.conf import settings as s; print(s.ALLOWED_HOSTS)",
                     env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "panel.example.com" in result.stdout


def test_redis_hands_no_job_to_a_second_worker_while_the_longest_may_still_run(
    tmp_path: Path,
) -> None:
    """With Redis as broker, its visibility timeout is above every task's hard time limit
    (the embedded broker takes no such option)."""
    script = (
        "from django.conf import settings as s; from panel.celery import app; "
        "app.loader.import_default_modules(); "
        "print(max(t.time_limit or 0 for t in app.tasks.values()), "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout', 0), "
        "s.CELERY_WORKER_PREFETCH_MULTIPLIER)"
    )
    env = {"PANEL_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = _manage("shell", "-v", "0", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    longest, visibility, prefetch = map(float, result.stdout.split())
    assert longest >= 12 * 3600 and visibility > longest and prefetch == 1
