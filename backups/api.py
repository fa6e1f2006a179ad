"""Backups over the API: the schedules (policies), the runs, and backing up now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from ninja.params.functions import Query as QueryParam
from ninja.responses import Status

from backups import services
from backups.forms import BackupNowForm, PolicyForm
from backups.models import Backup, Policy, Repository
from deployments.models import Accessory
from deployments.services import DeployRefused
from panel.api.auth import ApiError, actor_of, needs
from panel.api.bodies import StrictBody, valid
from panel.api.idempotency import idempotent
from panel.api.jobs import JobStarted, started
from panel.api.lookup import TEAM, by_name, by_pk, in_teams, named_in_team
from panel.api.pages import paged
from panel.forms import current_data, form_data
from panel.permissions import Action
from panel.requests import ApiRequest

router = Router(tags=["backups"])
ACCESSORIES = Accessory.objects.select_related("team")


class PolicyBody(StrictBody):
    accessory: str = Field(max_length=40)
    repositories: list[str] = Field(min_length=1, max_length=10, description="Their names")
    schedule: str = Field(max_length=100, description="Cron: 30 2 * * *")
    keep_last: int | None = Field(None, ge=0, le=1000)
    keep_daily: int | None = Field(None, ge=0, le=1000)
    keep_weekly: int | None = Field(None, ge=0, le=1000)
    keep_monthly: int | None = Field(None, ge=0, le=1000)
    timeout_minutes: int | None = Field(None, ge=1, le=10080)
    verify_schedule: str = Field("", max_length=100)
    check_database: str = Field("", max_length=30)
    check_query: str = Field("", max_length=10000)
    check_expected: str = Field("", max_length=1000)


class PolicyOut(Schema):
    id: int
    team: str = Field(alias="team.slug")
    accessory: str = Field(alias="accessory.name")
    repositories: list[str]
    schedule: str
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    timeout_minutes: int
    verify_schedule: str
    last_started_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_repositories(policy: Policy) -> list[str]:
        return sorted(repository.name for repository in policy.repositories.all())


class RunOut(Schema):
    id: int
    team: str = Field(alias="team.slug")
    accessory: str | None = Field(None, alias="accessory.name")
    of_panel: bool
    repository: str = Field(alias="repository.name")
    succeeded: bool
    snapshot_id: str
    bytes_read: int
    bytes_added: int
    seconds: float
    error: str
    job: int | None = Field(alias="job_id")
    created_at: datetime


class BackUpNowBody(StrictBody):
    accessory: str = Field(max_length=40)
    repository: str = Field(max_length=40, description="The repository's name")


@router.get("/backups/policies", response=list[PolicyOut], openapi_extra=needs(Action.VIEW))
@paged()
def policy_list(request: ApiRequest, team: str | None = TEAM) -> Any:
    policies = Policy.objects.select_related("team", "accessory").prefetch_related("repositories")
    return in_teams(request, policies, team)


@router.post(
    "/backups/policies", response={201: PolicyOut}, openapi_extra=needs(Action.MANAGE_BACKUPS)
)
def policy_create(request: ApiRequest, body: PolicyBody, team: str | None = TEAM) -> Any:
    """Back an accessory up on a schedule, keeping snapshots as asked."""
    accessory = by_name(request, ACCESSORIES, body.accessory, Action.MANAGE_BACKUPS, team)
    sent = body.model_dump(exclude_unset=True, exclude={"accessory"})
    repositories = [
        named_in_team(accessory.team_id, Repository, "repositories", name).pk
        for name in body.repositories
    ]
    blank = current_data(PolicyForm(team_id=accessory.team_id))
    form = PolicyForm(
        {**blank, **form_data(sent), "repositories": repositories}, team_id=accessory.team_id
    )
    valid(form)
    try:
        policy = services.create_policy(actor_of(request), accessory, **form.policy_options())
    except DeployRefused as refusal:
        raise ApiError(409, str(refusal)) from refusal
    return Status(201, policy)


@router.delete(
    "/backups/policies/{policy_id}",
    response={204: None},
    openapi_extra=needs(Action.MANAGE_BACKUPS),
)
def policy_delete(request: ApiRequest, policy_id: int) -> Any:
    """The schedule goes; its snapshots stay in the repositories."""
    policy = by_pk(request, Policy.objects.select_related("team", "accessory"), policy_id,
                   Action.MANAGE_BACKUPS)  # fmt: skip
    services.delete_policy(actor_of(request), policy)
    return Status(204, None)


@router.get("/backups/runs", response=list[RunOut], openapi_extra=needs(Action.VIEW))
@paged()
def run_list(
    request: ApiRequest,
    team: str | None = TEAM,
    accessory: str | None = QueryParam(None, max_length=40),
    failed: bool | None = None,
) -> Any:
    runs = in_teams(request, Backup.objects.select_related("team", "accessory", "repository"), team)
    if accessory:
        runs = runs.filter(accessory__name=accessory)
    if failed is not None:
        runs = runs.filter(succeeded=not failed)
    return runs


@router.post(
    "/backups/runs", response={202: JobStarted}, openapi_extra=needs(Action.MANAGE_BACKUPS)
)
@idempotent
def back_up_now(request: ApiRequest, body: BackUpNowBody, team: str | None = TEAM) -> Any:
    """Back the accessory up now into the repository; the run appears when the job ends."""
    accessory = by_name(request, ACCESSORIES, body.accessory, Action.MANAGE_BACKUPS, team)
    named = named_in_team(accessory.team_id, Repository, "repository", body.repository)
    form = BackupNowForm({"repository": named.pk}, team_id=accessory.team_id)
    repository = valid(form)["repository"]
    actor = actor_of(request)
    try:
        return started(lambda: services.start_backup(actor, accessory, repository))
    except DeployRefused as refusal:
        raise ApiError(409, str(refusal)) from refusal
