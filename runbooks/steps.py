"""A runbook's steps, pure: the YAML a person writes, checked into typed steps (each bad
step named), and back into plain dicts for the job that runs them.

    - check: Tell the team the window starts        # a person ticks it (role: admin)
    - run: df -h /                                   # on the servers named
      on: [web1, web2]
    - http: POST https://hooks.example.com/ops       # headers and body may hold ${SECRET}
      headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
      body: '{"text": "window open"}'
    - wait: 30
    - deploy: shop                                   # version: a tag; the live one by default
    - backup: db                                     # to: a repository; the first one
    - upgrade: db                                    # image: the new image
      image: postgres:17
    - reboot: web1                                   # if_required: true
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

ROLES = ("deployer", "admin")
WHO = {"deployer": "a deployer", "admin": "an admin"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
ACTIONS = ("deploy", "backup", "upgrade", "reboot")
SECRET = re.compile(r"\$\{([A-Z][A-Z0-9_]{0,63})\}")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_WAIT = 24 * 3600
MAX_STEPS = 100


@dataclass(frozen=True)
class Step:
    kind: str  # check, run, http, wait, or one of ACTIONS
    text: str = ""  # check: what to do; run: the command
    role: str = "deployer"  # check: who may confirm it
    servers: tuple[str, ...] = ()  # run: server names
    method: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    seconds: int = 0
    target: str = ""  # an action's app, accessory or server, by name
    option: str = ""  # deploy: version; backup: repository; upgrade: image; reboot: "if-required"

    def secrets(self) -> set[str]:
        texts = [self.url, self.body, *self.headers.values()]
        return {name for text in texts for name in SECRET.findall(text)}

    def describe(self) -> str:
        if self.kind == "check":
            return f"A person confirms ({WHO[self.role]} or above): {self.text}"
        if self.kind == "run":
            return f"On {', '.join(self.servers)}: $ {self.text}"
        if self.kind == "http":
            sent = f" ({len(self.body)} bytes)" if self.body else ""
            return f"HTTP {self.method} {self.url}{sent}"
        if self.kind == "wait":
            return f"Wait {self.seconds} s"
        words = {"deploy": "Deploy", "backup": "Back up", "upgrade": "Upgrade", "reboot": "Reboot"}
        extra = f" ({self.option})" if self.option else ""
        return f"{words[self.kind]} {self.target}{extra}, and wait for its job"


def parse(text: str) -> list[Step]:
    """Raises ValidationError naming every bad step."""
    try:
        loaded = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        hint = "Quote values that hold { } or $."
        raise ValidationError(f"Not YAML{where}: {problem}. {hint}") from None
    if not isinstance(loaded, list) or not loaded:
        raise ValidationError("Write a list of steps, each starting with '- '.")
    if len(loaded) > MAX_STEPS:
        raise ValidationError(f"At most {MAX_STEPS} steps.")
    steps, errors = [], []
    for number, item in enumerate(loaded, start=1):
        try:
            steps.append(_step(item))
        except ValueError as error:
            errors.append(f"Step {number}: {error}")
    if errors:
        raise ValidationError(errors)
    return steps


def as_dicts(steps: list[Step]) -> list[dict[str, Any]]:
    return [asdict(step) for step in steps]


def from_dicts(stored: list[dict[str, Any]]) -> list[Step]:
    return [Step(**{**item, "servers": tuple(item["servers"])}) for item in stored]


def _step(item: Any) -> Step:
    if not isinstance(item, dict) or not item:
        raise ValueError("each step is a mapping, like '- wait: 30'")
    kind = next(iter(item))
    value, rest = item[kind], {k: v for k, v in item.items() if k != kind}
    allowed = {"check": {"role"}, "run": {"on"}, "http": {"headers", "body"}, "wait": set(),
               "deploy": {"version"}, "backup": {"to"}, "upgrade": {"image"},
               "reboot": {"if_required"}}  # fmt: skip
    if kind not in allowed:
        raise ValueError(f"unknown step {str(kind)[:40]!r}; steps are {', '.join(allowed)}")
    unknown = set(rest) - allowed[kind]
    if unknown:
        raise ValueError(f"{kind} takes no {', '.join(sorted(map(str, unknown)))}")
    if kind == "check":
        role = _text(rest.get("role", "deployer"), "role", 20)
        if role not in ROLES:
            raise ValueError("role is deployer or admin")
        return Step("check", text=_text(value, "check", 500), role=role)
    if kind == "run":
        on = rest.get("on")
        names = [on] if isinstance(on, str) else on
        if not isinstance(names, list) or not names:
            raise ValueError("say on which servers: on: [web1]")
        return Step("run", text=_text(value, "command", 4000),
                    servers=tuple(_name(x) for x in names))  # fmt: skip
    if kind == "http":
        return _http(value, rest)
    if kind == "wait":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WAIT:
            raise ValueError(f"wait is a number of seconds from 1 to {MAX_WAIT}")
        return Step("wait", seconds=value)
    return _action(kind, value, rest)


def _http(value: Any, rest: dict[str, Any]) -> Step:
    method, _, url = _text(value, "http", 2100).partition(" ")
    if method.upper() not in METHODS or not url.strip():
        raise ValueError(f"write the method and the URL: POST https://… ({', '.join(METHODS)})")
    headers = rest.get("headers", {})
    if not isinstance(headers, dict):
        raise ValueError("headers are a mapping: {Authorization: Bearer ${TOKEN}}")
    checked = {}
    for name, header in headers.items():
        name = _text(name, "a header's name", 100)
        if not re.fullmatch(r"[A-Za-z0-9-]+", name):
            raise ValueError(f"{name[:40]!r} is not a header name")
        checked[name] = _text(header, f"header {name}", 2000)
    body = rest.get("body", "")
    body = body if isinstance(body, str) else _json(body)
    if len(body) > 100_000:
        raise ValueError("the body is at most 100 kB")
    return Step("http", method=method.upper(), url=url.strip(), headers=checked, body=body)


def _action(kind: str, value: Any, rest: dict[str, Any]) -> Step:
    target = _name(value)
    if kind == "deploy":
        option = _text(rest.get("version", ""), "version", 128) if "version" in rest else ""
        if option and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", option):
            raise ValueError("the version is an image tag")
    elif kind == "backup":
        option = _name(rest["to"]) if "to" in rest else ""
    elif kind == "upgrade":
        if "image" not in rest:
            raise ValueError("say which image: image: postgres:17")
        option = _text(rest["image"], "image", 255)
    else:
        if rest.get("if_required", False) not in (True, False):
            raise ValueError("if_required is true or false")
        option = "if-required" if rest.get("if_required") else ""
    return Step(kind, target=target, option=option)


def _text(value: Any, what: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{what} is text")
    text = str(value)
    if not text.strip() or len(text) > limit or "\x00" in text:
        raise ValueError(f"{what} is 1 to {limit} characters")
    return text


def _name(value: Any) -> str:
    name = _text(value, "a name", 63)
    if not NAME.fullmatch(name):
        raise ValueError(f"{name[:40]!r} is not a name the panel gives (a-z, 0-9, -)")
    return name


def _json(value: Any) -> str:
    return json.dumps(value)
