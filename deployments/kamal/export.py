"""An app and its accessories as a Kamal 2 `config/deploy.yml`, and a `.kamal/secrets`
template that names each secret without its value: leaving the panel is as easy as coming."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Q
from ruamel.yaml import YAML

from deployments import accessory_state
from deployments.accessory_kinds import KINDS
from deployments.models import Accessory, App, EnvVar
from servers.models import Server

REGISTRY_PASSWORD = "KAMAL_REGISTRY_PASSWORD"  # noqa: S105 (a name)


def export(app: App) -> tuple[str, str]:
    """(deploy.yml, the secrets template)."""
    secrets: list[str] = []
    config: dict[str, Any] = {"service": app.name}
    server, _, repository = app.image.partition("/")
    has_registry = "." in server or ":" in server or server == "localhost"
    config["image"] = repository if has_registry and repository else app.image
    config["servers"] = _servers(app, secrets)
    config["proxy"] = _proxy(app)
    if app.registry_username or has_registry:
        registry: dict[str, Any] = {}
        if has_registry:
            registry["server"] = server
        if app.registry_username:
            registry["username"] = app.registry_username
            registry["password"] = [REGISTRY_PASSWORD]
            secrets.append(REGISTRY_PASSWORD)
        config["registry"] = registry
    env = _env(EnvVar.objects.filter(app=app, role=""), secrets)
    if env:
        config["env"] = env
    config["builder"] = _builder(app, secrets)
    hosts = _servers_of(app)
    if hosts and (hosts[0].user != "root" or hosts[0].port != 22):
        config["ssh"] = {"user": hosts[0].user, "port": hosts[0].port}
    if app.volumes:
        config["volumes"] = list(app.volumes)
    config["retain_containers"] = app.retain_releases
    config["deploy_timeout"] = app.deploy_timeout
    config["drain_timeout"] = app.drain_timeout
    accessories = {
        accessory.name: _accessory(accessory, secrets)
        for accessory in Accessory.objects.filter(Q(links__app=app) | Q(imported_with=app))
        .select_related("server").distinct().order_by("name")
    }  # fmt: skip
    if accessories:
        config["accessories"] = accessories
    config.update(app.kamal_extensions or {})
    template = "".join(f"{name}=\n" for name in dict.fromkeys(secrets))
    return _yaml(config), template


def _servers(app: App, secrets: list[str]) -> Any:
    roles: dict[str, Any] = {}
    for role in app.roles.prefetch_related("servers").order_by("name"):
        spec: dict[str, Any] = {"hosts": [s.host for s in role.servers.order_by("name")]}
        if role.command:
            spec["cmd"] = role.command
        env = _env(EnvVar.objects.filter(app=app, role=role.name), secrets)
        if env:
            spec["env"] = env
        roles[role.name] = spec
    if set(roles) == {"web"} and set(roles["web"]) == {"hosts"}:
        return roles["web"]["hosts"]
    return roles


def _servers_of(app: App) -> list[Server]:
    return list(Server.objects.filter(roles__app=app).distinct().order_by("name"))


def _proxy(app: App) -> dict[str, Any]:
    proxy: dict[str, Any] = {}
    if app.domains:
        proxy["hosts"] = list(app.domains)
    if app.tls:
        proxy["ssl"] = True
        if not app.redirect_http:
            proxy["ssl_redirect"] = False
    proxy["app_port"] = app.container_port
    proxy["healthcheck"] = {"path": app.health_path, "interval": app.health_interval,
                            "timeout": app.health_timeout}  # fmt: skip
    return proxy


def _env(variables: Any, secrets: list[str]) -> dict[str, Any]:
    clear = {v.key: v.value.reveal() for v in variables if not v.secret and v.for_containers}
    secret = [v.key for v in variables if v.secret and v.for_containers]
    secrets += secret
    env: dict[str, Any] = {}
    if clear:
        env["clear"] = clear
    if secret:
        env["secret"] = secret
    return env


def _builder(app: App, secrets: list[str]) -> dict[str, Any]:
    """Build arguments are kept encrypted: their values stay in the panel, read from the
    environment by Kamal (each named in the secrets template)."""
    builder: dict[str, Any] = {"arch": "amd64"}
    if app.dockerfile and app.dockerfile != "Dockerfile":
        builder["dockerfile"] = app.dockerfile
    if app.build_context:
        builder["context"] = app.build_context
    text = app.build_args.reveal() if app.build_args else ""
    names = [line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line]
    if names:
        builder["args"] = {name: f'<%= ENV["{name}"] %>' for name in names}
        secrets += names
    return builder


def _accessory(accessory: Accessory, secrets: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"image": accessory.image, "host": accessory.server.host}
    if accessory.publish:
        spec["port"] = accessory.publish[0]
    own = {name for name, _ in KINDS.get(accessory.kind, KINDS["custom"]).env}
    variables = accessory_state.stored(accessory).get("variables", {})
    clear = {k: v for k, v in variables.items() if k not in own}
    env: dict[str, Any] = {}
    if clear:
        env["clear"] = clear
    if own:
        env["secret"] = sorted(own)
        secrets += sorted(own)
    if env:
        spec["env"] = env
    data = [v for v in accessory.volumes if not v.startswith("panel-accessory-")]
    if data:
        spec["volumes"] = data
    if accessory.command:
        spec["cmd"] = accessory.command
    return spec


def _yaml(config: dict[str, Any]) -> str:
    writer = YAML(typ="rt", pure=True)  # keeps the order of keys
    writer.default_flow_style = False
    out = io.StringIO()
    writer.dump(config, out)
    return out.getvalue()
