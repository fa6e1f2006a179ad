from __future__ import annotations

from django.apps import AppConfig


class ServersConfig(AppConfig):
    name = "servers"

    def ready(self) -> None:
        from panel.jobs import runner
        from panel.teams import member_removed
        from servers import access_services, ssh, state

        runner.on_failure(ssh.HostKeyMismatch, state.record_mismatch)
        member_removed.connect(access_services.member_left, dispatch_uid="servers.access")
