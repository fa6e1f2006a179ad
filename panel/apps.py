from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings

from panel.local_broker import keep_local_broker_in_wal


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self) -> None:
        keep_local_broker_in_wal(getattr(settings, "CELERY_BROKER_URL", ""))
