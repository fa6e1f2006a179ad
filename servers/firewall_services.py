"""Writes to a server's firewall, audited: the allowed ports (nothing changes on the server),
and the start of the job that applies them."""

from __future__ import annotations

from django.db import transaction

from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind
from servers.firewall import Rule, rules_from, text_of
from servers.models import Firewall, Server
from servers.tasks import apply_server_firewall


def default_rules(server: Server) -> list[Rule]:
    """SSH first, always; the web where the proxy runs."""
    web = [Rule("80"), Rule("443")] if server.proxy_running else []
    return [Rule(str(server.port)), *web]


def wanted(server: Server) -> Firewall:
    """The server's firewall as stored, or its defaults (unsaved) where none is."""
    found = Firewall.objects.filter(server=server).first()
    return found or Firewall(server=server, rules=[x.as_dict() for x in default_rules(server)])


def set_rules(actor: Actor, server: Server, rules: list[Rule]) -> Firewall:
    existing = Firewall.objects.filter(server=server).first()
    before = None if existing is None else {"rules": text_of(rules_from(existing.rules))}
    with transaction.atomic():
        firewall, _ = Firewall.objects.update_or_create(
            server=server, defaults={"rules": [x.as_dict() for x in rules]}
        )
        audit.record(actor, AuditAction.FIREWALL_SET, team=server.team, target=server,
                     details={"rules": text_of(rules),
                              **audit.diff(before, {"rules": text_of(rules)})})  # fmt: skip
    return firewall


def start_apply(actor: Actor, firewall: Firewall) -> Job:
    server = firewall.server
    return jobs.enqueue(kind=JobKind.SERVER_FIREWALL, team=server.team, actor=actor,
                        task=apply_server_firewall, target=server,
                        params={"rules": firewall.rules})  # fmt: skip
