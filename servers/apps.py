from __future__ import annotations

from django.apps import AppConfig


class ServersConfig(AppConfig):
    name = "servers"

    def ready(self) -> None:
        from panel.jobs import runner
        from servers import ssh, state

        runner.on_failure(ssh.HostKeyMismatch, state.record_mismatch)
