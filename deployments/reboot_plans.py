"""A server's reboot as a plan: the reboot itself (the server's part, `servers.os_plans`),
then each thing the panel runs there found running again, by its own health check: the
proxy, the accessories, and every app's live containers (a web container answers its health
path). Also which apps go dark while it reboots: those whose only web server it is."""

from __future__ import annotations

from deployments.commands.accessories import container as accessory_container
from deployments.models import Accessory, App, Container, ReleaseStatus
from deployments.planner import health_gate
from deployments.spec import host_of, running_spec
from servers.commands.proxy import CONTAINER as PROXY_CONTAINER
from servers.models import Server
from servers.os_plans import REBOOT_TIMEOUT, reboot_phase
from servers.plans import Phase, Plan, WaitHealthy, lane

BACK = "Running again"
SERVICE_TIMEOUT = 120.0  # for the proxy and the accessories to run again after the boot


def plan_reboot(server: Server, privilege: str, timeout: float = REBOOT_TIMEOUT) -> Plan:
    checks = back_checks(server)
    back = (Phase(BACK, tuple(lane(check) for check in checks)),) if checks else ()
    return Plan((reboot_phase(host_of(server), privilege, timeout), *back))


def back_checks(server: Server) -> list[WaitHealthy]:
    host = host_of(server)
    checks = []
    live = Container.objects.filter(server=server, running=True,
                                    release__status=ReleaseStatus.LIVE)  # fmt: skip
    apps = App.objects.filter(pk__in=live.values("release__app")).order_by("name")
    if server.proxy_running or live.filter(role="web").exists():
        checks.append(WaitHealthy(host, PROXY_CONTAINER, SERVICE_TIMEOUT, title="the proxy"))
    accessories = Accessory.objects.filter(server=server).order_by("name")
    for name in accessories.values_list("name", flat=True):
        checks.append(WaitHealthy(host, accessory_container(name), SERVICE_TIMEOUT, title=name))
    for app in apps:
        spec = running_spec(app)
        checks += [health_gate(spec, p) for p in spec.placements if p.host.id == server.pk]
    return checks


def only_web_server(server: Server) -> list[App]:
    """Apps whose web containers run on this server alone: down while it reboots."""
    apps = App.objects.filter(roles__name="web", roles__servers=server).distinct()
    return [
        app for app in apps.order_by("name")
        if set(app.roles.get(name="web").servers.values_list("pk", flat=True)) == {server.pk}
    ]  # fmt: skip
