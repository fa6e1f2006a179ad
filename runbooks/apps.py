from __future__ import annotations

from django.apps import AppConfig


class RunbooksConfig(AppConfig):
    name = "runbooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from runbooks import signals  # noqa: F401 (connects its receivers)
