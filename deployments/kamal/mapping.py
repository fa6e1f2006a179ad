"""A Kamal 2 configuration as the panel's app, roles, variables and accessories, with a
review that says, key by key, what maps to what, what the panel does differently, and what
it does not support. Pure: the caller creates what the plan holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from deployments.accessory_kinds import KINDS
from deployments.kamal.loading import KamalError, Loaded, Path, dotted

# `<%= ENV["NAME"] %>` or `<%= ENV.fetch("NAME") %>`, alone in the value
ERB_ENV = re.compile(
    r"""\s*<%=\s*ENV(?:\.fetch\(|\[)\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*[)\]]\s*%>\s*"""
)
ERB = re.compile(r"<%")
SECRET_ALIAS = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?")
KIND_OF_IMAGE = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mariadb",
                 "redis": "redis", "valkey": "redis"}  # fmt: skip
BUILDS = (
    "Kamal builds on your machine and pushes; the panel deploys tags from the registry, or "
    "builds on a server from a git URL you set on the app (with this Dockerfile, context and "
    "args)"
)
NOT_NEEDED = {
    "minimum_version": "the panel runs its own deploys",
    "hooks_path": "the panel's own pre- and post-deploy commands replace hooks",
    "secrets_path": "secrets are filled in on this review",
    "require_destination": "a destination is chosen at import",
    "asset_path": "not supported: old and new assets are not bridged",
    "run_directory": "the panel keeps its files on the server in its own place",
    "error_pages_path": "the proxy shows the panel's own pages",
    "allow_empty_roles": "a role without servers is kept, and deploys nowhere",
    "readiness_delay": "the health check decides when a container is ready",
    "boot": "the panel deploys a role's servers one after another",
    "aliases": "not supported: use the API or the job pages",
    "labels": "not supported: the panel sets its own container labels",
    "logging": "not supported: containers log with Docker's default driver",
    "sshkit": "not supported",
}


@dataclass
class Entry:
    path: str
    text: str
    line: int | None = None


@dataclass
class SecretNeeded:
    name: str
    used_at: list[str]
    source: str = ""  # how Kamal would compute it, shown as text; never run


@dataclass
class Review:
    mapped: list[Entry] = field(default_factory=list)
    different: list[Entry] = field(default_factory=list)
    unsupported: list[Entry] = field(default_factory=list)
    secrets: list[SecretNeeded] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "mapped": [vars(e) for e in self.mapped],
            "different": [vars(e) for e in self.different],
            "unsupported": [vars(e) for e in self.unsupported],
            "secrets": [vars(s) for s in self.secrets],
        }


@dataclass
class Variable:
    key: str
    value: str = ""
    secret_name: str = ""  # filled from the secrets on import
    role: str = ""


@dataclass
class Host:
    address: str
    user: str
    port: int


@dataclass
class AccessoryPlan:
    name: str
    kind: str
    image: str
    host: str
    publish: list[str]
    command: str
    volumes: list[str]
    variables: list[Variable]


@dataclass
class Plan:
    app: dict[str, Any]
    roles: dict[str, dict[str, Any]]  # name → hosts, command
    variables: list[Variable]
    accessories: list[AccessoryPlan]
    hosts: list[Host]
    registry_password: Variable | None
    extensions: dict[str, Any]
    review: Review


def plan(loaded: Loaded) -> Plan:
    return _Mapper(loaded).plan()


PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(value: Any, secrets: dict[str, str]) -> Any:
    """`value` with each `${NAME}` a secret's value (texts, and texts in lists)."""
    if isinstance(value, list):
        return [fill(item, secrets) for item in value]
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: secrets.get(match.group(1), ""), value)
    return value


def value_of(variable: Variable, secrets: dict[str, str]) -> str:
    return (
        secrets.get(variable.secret_name, "")
        if variable.secret_name
        else fill(variable.value, secrets)
    )


class _Mapper:
    def __init__(self, loaded: Loaded) -> None:
        self.loaded, self.config = loaded, loaded.config
        self.review = Review()
        self.secrets: dict[str, SecretNeeded] = {}

    def plan(self) -> Plan:
        config = self.config
        service = self._text(("service",), required=True)
        image = self._text(("image",), required=True)
        ssh = self._mapping(("ssh",))
        user = str(ssh.get("user", "root"))
        port = self._int(("ssh", "port"), ssh.get("port", 22))
        self._done(("ssh",), f"servers are reached as {user} on port {port}")
        for key in sorted(set(ssh) - {"user", "port"}):
            self._unsupported(("ssh", key), "not supported: the panel connects with its own keys")
        registry = self._mapping(("registry",))
        server = str(registry.get("server", "")).strip()
        app: dict[str, Any] = {"name": service, "image": f"{server}/{image}" if server else image}
        self._done(("image",), f"the app's image is {app['image']}")
        password = self._registry(registry, app)
        roles, hosts = self._servers(user, port)
        self._proxy(app)
        variables = self._env(("env",), config.get("env"), "")
        for role, spec in self._roles_config().items():
            if isinstance(spec, dict) and "env" in spec:
                variables += self._env(("servers", role, "env"), spec["env"], role)
        self._builder(app)
        self._settings(app)
        accessories = [
            self._accessory(name, spec, roles)
            for name, spec in self._mapping(("accessories",)).items()
        ]
        for accessory in accessories:
            if accessory.host not in [host.address for host in hosts]:
                hosts.append(Host(accessory.host, user, port))
        extensions = {key: value for key, value in config.items() if key.startswith("x-")}
        for key in extensions:
            self._done((key,), "an extension: ignored, and written back on export")
        known = {"service", "image", "ssh", "registry", "servers", "primary_role", "proxy",
                 "env", "builder", "accessories", "volumes", "retain_containers",
                 "deploy_timeout", "drain_timeout", *NOT_NEEDED}  # fmt: skip
        for key in config:
            if key not in known and not key.startswith("x-"):
                raise KamalError(f"Kamal does not know the key {key!r}", (key,), self._line((key,)))
        for key, why in NOT_NEEDED.items():
            if key in config:
                target = self.review.unsupported if why.startswith("not") else self.review.different
                target.append(Entry(key, why, self._line((key,))))
        self.review.secrets = sorted(self.secrets.values(), key=lambda s: s.name)
        return Plan(app, roles, variables, accessories, hosts, password, extensions, self.review)

    # -- sections

    def _registry(self, registry: dict[str, Any], app: dict[str, Any]) -> Variable | None:
        if not registry:
            return None
        username = registry.get("username", "")
        if isinstance(username, list):
            name = self._secret_name(("registry", "username"), username)
            app["registry_username"] = "${" + name + "}"
        else:
            app["registry_username"] = self._value(("registry", "username"), username)
        password = registry.get("password")
        self._done(("registry",), "the app logs in to the registry to pull its image")
        if password is None:
            return None
        if isinstance(password, list):
            return Variable("registry_password", secret_name=self._secret_name(
                ("registry", "password"), password))  # fmt: skip
        return Variable("registry_password", value=self._value(("registry", "password"), password))

    def _servers(self, user: str, port: int) -> tuple[dict[str, dict[str, Any]], list[Host]]:
        primary = str(self.config.get("primary_role", "web"))
        roles: dict[str, dict[str, Any]] = {}
        addresses: list[str] = []
        for name, spec in self._roles_config().items():
            where: Path = ("servers", name)
            hosts_spec = spec.get("hosts", []) if isinstance(spec, dict) else spec
            if not isinstance(hosts_spec, list):
                raise KamalError("a role's hosts are a list", where, self._line(where))
            listed: Path = (*where, "hosts") if isinstance(spec, dict) else where
            hosts = [self._host((*listed, i), entry) for i, entry in enumerate(hosts_spec)]
            command = ""
            if isinstance(spec, dict):
                command = self._command((*where, "cmd"), spec.get("cmd", ""))
                for key in sorted(set(spec) - {"hosts", "cmd", "env", "proxy"}):
                    self._unsupported((*where, key), "not supported for a role")
                if "proxy" in spec and bool(spec["proxy"]) != (name == "web"):
                    self._different((*where, "proxy"), "the panel proxies the web role alone")
            roles[name] = {"hosts": hosts, "command": command}
            addresses += [host for host in hosts if host not in addresses]
            self._done(where, f"role {name} on {', '.join(hosts) or 'no server yet'}")
        if primary != "web" or "web" not in roles:
            self._different(("primary_role",), "the panel's proxied role is web; other roles "
                            "are workers without a route")  # fmt: skip
        return roles, [Host(address, user, port) for address in addresses]

    def _roles_config(self) -> dict[str, Any]:
        servers = self.config.get("servers")
        if servers is None:
            raise KamalError("Kamal needs servers", ("servers",))
        if isinstance(servers, list):
            return {"web": servers}
        if not isinstance(servers, dict):
            raise KamalError("servers are a list of hosts or a mapping of roles", ("servers",),
                             self._line(("servers",)))  # fmt: skip
        return servers

    def _host(self, path: Path, entry: Any) -> str:
        if isinstance(entry, dict) and len(entry) == 1:
            address, tags = next(iter(entry.items()))
            self._unsupported(path, f"host tags {tags} are not supported: use a role's env")
            entry = address
        return self._value(path, entry)

    def _proxy(self, app: dict[str, Any]) -> None:
        proxy = self._mapping(("proxy",))
        hosts = proxy.get("hosts") or ([proxy["host"]] if proxy.get("host") else [])
        if hosts:
            app["domains"] = [self._value(("proxy", "hosts"), host) for host in hosts]
            self._done(("proxy", "hosts"), f"domains {', '.join(app['domains'])}")
        if "ssl" in proxy:
            app["tls"] = bool(proxy["ssl"])
            app["redirect_http"] = bool(proxy.get("ssl_redirect", True)) and app["tls"]
            self._done(("proxy", "ssl"), "HTTPS with a certificate the proxy obtains")
        app["container_port"] = self._int(("proxy", "app_port"), proxy.get("app_port", 80))
        check = proxy.get("healthcheck") or {}
        app["health_path"] = str(check.get("path", "/up"))
        app["health_interval"] = float(check.get("interval", 1))
        app["health_timeout"] = float(check.get("timeout", 5))
        if check:
            self._done(("proxy", "healthcheck"), "the deploy's health check")
        used = {"host", "hosts", "ssl", "ssl_redirect", "app_port", "healthcheck"}
        for key in sorted(set(proxy) - used):
            self._unsupported(("proxy", key), "not supported by the panel's proxy (Caddy)")

    def _env(
        self, path: Path, env: Any, role: str, skip: frozenset[str] | set[str] = frozenset()
    ) -> list[Variable]:
        if env is None:
            return []
        if not isinstance(env, dict):
            raise KamalError("env is a mapping", path, self._line(path))
        structured = bool(set(env) & {"clear", "secret", "tags"})
        clear = env.get("clear", {}) if structured else env
        at: Path = (*path, "clear") if structured else path
        found = [Variable(str(k), self._value((*at, str(k)), v), role=role)
                 for k, v in (clear or {}).items() if str(k) not in skip]  # fmt: skip
        for index, item in enumerate(env.get("secret", []) if structured else []):
            match = SECRET_ALIAS.fullmatch(str(item))
            if not match:
                raise KamalError("a secret is NAME or NAME:SECRET_NAME", (*path, "secret", index))
            key, source = match.group(1), match.group(2) or match.group(1)
            if key in skip:
                continue
            self._need(source, dotted((*path, "secret", index)))
            found.append(Variable(key, secret_name=source, role=role))
        if structured and "tags" in env:
            self._unsupported((*path, "tags"), "per-host env is not supported: use a role's env")
        if found:
            count = f"{len(found)} variable{'s' if len(found) != 1 else ''}"
            self._done(path, count + (f" of role {role}" if role else ""))
        return found

    def _builder(self, app: dict[str, Any]) -> None:
        builder = self._mapping(("builder",))
        if "dockerfile" in builder:
            app["dockerfile"] = str(builder["dockerfile"])
        if "context" in builder:
            app["build_context"] = str(builder["context"]).strip("./") or ""
        args = builder.get("args") or {}
        if args:
            app["build_args"] = "\n".join(f"{k}={v}" for k, v in args.items())
        if builder:
            self._different(("builder",), BUILDS)
        for key in sorted(set(builder) - {"dockerfile", "context", "args", "arch"}):
            self._unsupported(("builder", key), "not used by the panel's builds")

    def _settings(self, app: dict[str, Any]) -> None:
        if "volumes" in self.config:
            volumes = self.config["volumes"]
            if not isinstance(volumes, list):
                raise KamalError("volumes are a list", ("volumes",), self._line(("volumes",)))
            app["volumes"] = [self._value(("volumes", i), v) for i, v in enumerate(volumes)]
            self._done(("volumes",), "the app's volumes")
        for key, ours in (("retain_containers", "retain_releases"),
                          ("deploy_timeout", "deploy_timeout"),
                          ("drain_timeout", "drain_timeout")):  # fmt: skip
            if key in self.config:
                app[ours] = self._int((key,), self.config[key])
                self._done((key,), ours.replace("_", " "))
        for ours, kamal_default in (("retain_releases", 5), ("deploy_timeout", 30),
                                    ("drain_timeout", 30)):  # fmt: skip
            app.setdefault(ours, kamal_default)  # the panel's drain timeout is shorter

    def _accessory(self, name: str, spec: Any, roles: dict[str, dict[str, Any]]) -> AccessoryPlan:
        where: Path = ("accessories", name)
        if not isinstance(spec, dict) or "image" not in spec:
            raise KamalError("an accessory needs an image", where, self._line(where))
        image = self._value((*where, "image"), spec["image"])
        base = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
        kind = KIND_OF_IMAGE.get(base, "custom")
        hosts = [spec["host"]] if spec.get("host") else list(spec.get("hosts") or [])
        for role in spec.get("roles") or []:
            hosts += roles.get(str(role), {}).get("hosts", [])
        if not hosts:
            raise KamalError("an accessory needs a host, hosts or roles", where, self._line(where))
        if len(hosts) > 1:
            self._different((*where, "hosts"), f"the panel runs it on one server: {hosts[0]}")
        publish = self._publish((*where, "port"), spec.get("port"))
        own = {name for name, _ in KINDS[kind].env}
        variables = self._env((*where, "env"), spec.get("env"), "", skip=own)
        if own & _names_in(spec.get("env")):
            self._different((*where, "env"), f"the panel sets {', '.join(sorted(own))} itself "
                            "(a password it makes and keeps encrypted); apps get it through a "
                            "link (Accessories → Link)")  # fmt: skip
        for key in sorted(set(spec) - {"image", "host", "hosts", "roles", "port", "env",
                                       "volumes", "directories", "cmd"}):  # fmt: skip
            why = "upload it on the accessory's page" if key == "files" else ""
            self._unsupported((*where, key), f"not supported{': ' + why if why else ''}")
        self._done(where, f"a {kind} accessory on {hosts[0]}")
        volumes = [str(v) for v in spec.get("volumes") or []]
        volumes += self._directories(name, kind, (*where, "directories"), spec.get("directories"))
        command = self._command((*where, "cmd"), spec.get("cmd", ""))
        return AccessoryPlan(name, kind, image, str(hosts[0]), publish, command, volumes,
                             variables)  # fmt: skip

    def _directories(self, accessory: str, kind: str, path: Path, given: Any) -> list[str]:
        """Kamal's host folders (`NAME:/in/container`) as Docker volumes of the accessory's; the
        engine's data folder is the volume the panel makes for it already."""
        if given in (None, []):
            return []
        if not isinstance(given, list):
            raise KamalError("directories are a list", path, self._line(path))
        volumes = []
        for index, entry in enumerate(given):
            folder, _, inside = str(entry).partition(":")
            if not inside.startswith("/"):
                raise KamalError("a directory is NAME:/path/in/container", (*path, index),
                                 self._line((*path, index)))  # fmt: skip
            if kind != "custom" and inside == KINDS[kind].data_path:
                self._different((*path, index), f"its data lives in the Docker volume the panel "
                                f"makes for it (panel-accessory-{accessory}-data), not in a folder "
                                f"on the host")  # fmt: skip
                continue
            volume = f"{accessory}-{PurePosixPath(folder).name or 'data'}"
            self._different((*path, index), f"the Docker volume {volume} at {inside}, in place "
                            f"of the host folder {folder}")  # fmt: skip
            volumes.append(f"{volume}:{inside}")
        return volumes

    def _publish(self, path: Path, port: Any) -> list[str]:
        """Kamal's `port` (PORT, HOST_PORT:PORT or ADDRESS:HOST_PORT:PORT) as Docker's publish
        value; without an address, on the server's loopback only."""
        if port in (None, ""):
            return []
        parts = str(port).split(":")
        if len(parts) == 3:
            return [str(port)]
        if len(parts) > 3:
            raise KamalError("a port is PORT, HOST_PORT:PORT or ADDRESS:HOST_PORT:PORT", path,
                             self._line(path))  # fmt: skip
        host_port, own = (parts * 2)[:2] if len(parts) == 1 else parts
        self._different(path, "published on the server's loopback (127.0.0.1) only, where "
                        "Kamal publishes on every address: give ADDRESS:HOST_PORT:PORT to "
                        "choose")  # fmt: skip
        return [f"127.0.0.1:{host_port}:{own}"]

    # -- values

    def _value(self, path: Path, value: Any) -> str:
        """A plain value; an ERB placeholder for ENV["X"] becomes secret X to fill in."""
        text = "" if value is None else str(value)
        if not ERB.search(text):
            return text
        match = ERB_ENV.fullmatch(text)
        if match is None:
            self._unsupported(path, "ERB is never run: fill in the value after import")
            return ""
        self._need(match.group(1), dotted(path))
        return "${" + match.group(1) + "}"

    def _secret_name(self, path: Path, names: list[Any]) -> str:
        if len(names) != 1:
            raise KamalError("a secret reference is a list of one name", path, self._line(path))
        name = str(names[0])
        self._need(name, dotted(path))
        return name

    def _need(self, name: str, where: str) -> None:
        self.secrets.setdefault(name, SecretNeeded(name, [])).used_at.append(where)

    def _text(self, path: Path, required: bool = False) -> str:
        value = self.config.get(str(path[0]))
        if value in (None, "") and required:
            raise KamalError(f"Kamal needs {dotted(path)}", path, self._line(path))
        if not isinstance(value, str | int):
            raise KamalError("this is a text value", path, self._line(path))
        return self._value(path, value)

    def _int(self, path: Path, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise KamalError("this is a whole number", path, self._line(path))
        try:
            return int(value)
        except ValueError as failure:
            raise KamalError("this is a whole number", path, self._line(path)) from failure

    def _mapping(self, path: Path) -> dict[str, Any]:
        value = self.config.get(str(path[0]), {}) if len(path) == 1 else {}
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise KamalError("this is a mapping", path, self._line(path))
        return value

    def _command(self, path: Path, value: Any) -> str:
        if isinstance(value, list):
            return " ".join(str(part) for part in value)
        return self._value(path, value)

    def _line(self, path: Path) -> int | None:
        return self.loaded.line(path)

    def _done(self, path: Path, text: str) -> None:
        self.review.mapped.append(Entry(dotted(path), text, self._line(path)))

    def _different(self, path: Path, text: str) -> None:
        self.review.different.append(Entry(dotted(path), text, self._line(path)))

    def _unsupported(self, path: Path, text: str) -> None:
        self.review.unsupported.append(Entry(dotted(path), text, self._line(path)))


def _names_in(env: Any) -> set[str]:
    """The variable names an env block sets, in either form."""
    if not isinstance(env, dict):
        return set()
    if not set(env) & {"clear", "secret", "tags"}:
        return set(map(str, env))
    clear = env.get("clear") or {}
    secret = [str(item).split(":", 1)[0] for item in env.get("secret") or []]
    return {*map(str, clear), *secret}
