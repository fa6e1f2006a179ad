"""Servers over the API: list, add, read; check one, bootstrap one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from panel.api.auth import ApiError, actor_of, needs
from panel.api.bodies import StrictBody, valid
from panel.api.idempotency import idempotent
from panel.api.jobs import JobStarted, started
from panel.api.lookup import TEAM, by_name, in_teams, named_in_team, team_for
from panel.api.pages import paged
from panel.forms import current_data, form_data
from panel.permissions import Action
from panel.requests import ApiRequest
from servers import services
from servers.forms import NewServerForm
from servers.models import Server, SshKey

router = Router(tags=["servers"])
SERVERS = Server.objects.select_related("team", "ssh_key")


class ServerBody(StrictBody):
    name: str = Field(max_length=63)
    host: str = Field(max_length=253)
    port: int = Field(22, ge=1, le=65535)
    user: str = Field("root", max_length=32)
    ssh_key: str = Field(max_length=63, description="The name of one of the team's SSH keys")
    labels: list[str] = Field(default_factory=list, max_length=20)
    proxy_image: str = Field("", max_length=255)
    expected_fingerprint: str = Field(
        "", max_length=100, description="SHA256:… of the host key, to trust it at once"
    )


class ServerOut(Schema):
    name: str
    team: str = Field(alias="team.slug")
    host: str
    port: int
    user: str
    ssh_key: str = Field(alias="ssh_key.name")
    labels: list[str]
    host_key_state: str
    host_key_fingerprint: str
    reachable: bool | None
    last_checked_at: datetime | None
    last_error: str
    docker_version: str
    proxy_running: bool | None
    created_at: datetime


class ServerAdded(Schema):
    server: ServerOut
    host_key: str = Field(description="What reading the host key found")
    warning: bool


@router.get("/servers", response=list[ServerOut], openapi_extra=needs(Action.VIEW))
@paged()
def server_list(request: ApiRequest, team: str | None = TEAM) -> Any:
    return in_teams(request, SERVERS, team)


@router.post("/servers", response={201: ServerAdded}, openapi_extra=needs(Action.MANAGE_SERVERS))
def server_create(request: ApiRequest, body: ServerBody, team: str | None = TEAM) -> Any:
    """Add a server and read the key its host presents: trusted at once when it matches
    `expected_fingerprint`, else offered until confirmed on the server's page."""
    into = team_for(request, team, Action.MANAGE_SERVERS)
    key = named_in_team(into.pk, SshKey, "ssh_key", body.ssh_key)
    sent = form_data({**body.model_dump(), "ssh_key": key.pk})
    form = NewServerForm({**current_data(NewServerForm(team=into)), **sent}, team=into)
    data = valid(form)
    server, outcome = services.create_server(
        actor_of(request), into, form.server_fields(), data["expected_fingerprint"]
    )
    return Status(201, {"server": server, "host_key": outcome.message, "warning": outcome.warning})


@router.get("/servers/{name}", response=ServerOut, openapi_extra=needs(Action.VIEW))
def server_read(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    return by_name(request, SERVERS, name, Action.VIEW, team)


@router.post(
    "/servers/{name}/check", response={202: JobStarted}, openapi_extra=needs(Action.CHECK_SERVER)
)
@idempotent
def server_check(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    """Connect, read Docker's version, the proxy's state and the host's facts."""
    server = by_name(request, SERVERS, name, Action.CHECK_SERVER, team)
    return started(lambda: services.start_check(actor_of(request), server))


@router.post(
    "/servers/{name}/bootstrap",
    response={202: JobStarted},
    openapi_extra=needs(Action.MANAGE_SERVERS),
)
@idempotent
def server_bootstrap(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    """Install Docker where missing, and start the proxy. Needs a trusted host key."""
    server = by_name(request, SERVERS, name, Action.MANAGE_SERVERS, team)
    if not server.is_trusted:
        raise ApiError(409, f"{server.name}'s host key is not trusted yet: confirm it first.")
    return started(lambda: services.start_bootstrap(actor_of(request), server))
