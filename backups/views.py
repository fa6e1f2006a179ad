"""Backup pages: repositories (list, add, check), and for an accessory: back up now, schedules,
scratch copies made live, verifications, upgrades, and a files snapshot's files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from backups import services
from backups.forms import (
    BackupNowForm,
    PanelPolicyForm,
    PolicyForm,
    RepositoryForm,
    UpgradeForm,
)
from backups.models import (
    Backup,
    PanelPolicy,
    Policy,
    Repository,
    RepositoryKind,
    ScratchCopy,
    Upgrade,
)
from backups.operations import panel_backup
from deployments.models import Accessory
from deployments.services import DeployRefused
from panel.audit import Actor
from panel.models import Job
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of
from panel.schedules import in_words, next_run


@login_required
def repository_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    repositories = Repository.objects.filter(team=team).select_related("server")
    recent = Backup.objects.filter(team=team).select_related("repository", "accessory")[:20]
    return render(
        request,
        "backups/repository_list.html",
        {"repositories": repositories, "backups": recent},
    )


@login_required
def repository_new(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_BACKUPS)
    form = RepositoryForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        local = data["kind"] in (RepositoryKind.LOCAL, RepositoryKind.SFTP)
        place = (
            {"server": data["server"], "folder": data["folder"]}
            if local
            else {
                "prefix": data["bucket_folder"],
                **{key: data[key] for key in ("endpoint", "bucket", "region", "access_key")},
            }
        )
        services.create_repository(
            actor_of(request),
            team,
            name=data["name"],
            kind=data["kind"],
            secret_key="" if local else data["secret_key"],
            password=data["password"].strip(),
            image=data["image"],
            **place,
        )
        messages.success(request, f"{data['name']} is added; its first backup opens or makes it.")
        return redirect("repository_list")
    return render(request, "backups/repository_form.html", {"form": form})


@login_required
@require_POST
def accessory_back_up(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    form = BackupNowForm(request.POST, team_id=accessory.team_id)
    if not form.is_valid():
        messages.error(request, "Choose a repository (add one under Backups first).")
        return redirect("accessory_detail", accessory_id=accessory.pk)
    repository = form.cleaned_data["repository"]
    return _started(
        request,
        accessory,
        lambda: services.start_backup(actor_of(request), accessory, repository),
    )


@login_required
@require_POST
def accessory_scratch(request: HttpRequest, accessory_id: str, backup_id: int) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    backup = get_object_or_404(Backup, pk=backup_id, accessory=accessory)
    return _started(
        request,
        accessory,
        lambda: services.start_scratch_restore(actor_of(request), accessory, backup),
    )


@login_required
@require_POST
def accessory_scratch_remove(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    job = services.start_scratch_removal(actor_of(request), accessory)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def accessory_promote(request: HttpRequest, accessory_id: str, copy_id: int) -> HttpResponse:
    accessory: Accessory = get_for(
        request.user, Accessory.objects.select_related("team"), accessory_id, Action.RESTORE_LIVE
    )
    copy = get_object_or_404(ScratchCopy.objects.select_related("backup__repository"),
                             pk=copy_id, accessory=accessory)  # fmt: skip
    return _started(
        request,
        accessory,
        lambda: services.start_promotion(
            actor_of(request), accessory, copy, request.POST.get("confirm", "")
        ),
    )


@login_required
@require_POST
def accessory_upgrade(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory: Accessory = get_for(
        request.user, Accessory.objects.select_related("team"), accessory_id, Action.MANAGE_APPS
    )
    form = UpgradeForm(request.POST, team_id=accessory.team_id)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for found in form.errors.values() for m in found))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    image, repository = form.cleaned_data["image"], form.cleaned_data["repository"]
    return _started(
        request,
        accessory,
        lambda: services.start_upgrade(actor_of(request), accessory, image, repository),
    )


@login_required
@require_POST
def upgrade_revert(request: HttpRequest, accessory_id: str, upgrade_id: int) -> HttpResponse:
    return _kept_data_job(
        request, accessory_id, upgrade_id, Action.RESTORE_LIVE, services.start_upgrade_revert
    )


@login_required
@require_POST
def kept_remove(request: HttpRequest, accessory_id: str, upgrade_id: int) -> HttpResponse:
    return _kept_data_job(
        request, accessory_id, upgrade_id, Action.REMOVE_DATA, services.start_kept_removal
    )


def _kept_data_job(
    request: HttpRequest,
    accessory_id: str,
    upgrade_id: int,
    action: Action,
    start: Callable[[Actor, Accessory, Upgrade], Job],
) -> HttpResponse:
    """A job on the data an upgrade kept: going back to it, or removing it."""
    accessory: Accessory = get_for(
        request.user, Accessory.objects.select_related("team"), accessory_id, action
    )
    done = get_object_or_404(Upgrade, pk=upgrade_id, accessory=accessory)
    actor = actor_of(request)
    return _started(request, accessory, lambda: start(actor, accessory, done))


@login_required
def backup_files(request: HttpRequest, accessory_id: str, backup_id: int) -> HttpResponse:
    """A files snapshot's files, to download one, or to restore them all into the live ones."""
    accessory = _managed(request, accessory_id)
    backup = _files_backup(accessory, backup_id)
    try:
        entries = services.snapshot_files(backup)
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    context = {"accessory": accessory, "backup": backup, "entries": entries}
    return render(request, "backups/snapshot_files.html", context)


@login_required
def backup_file_download(request: HttpRequest, accessory_id: str, backup_id: int) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    backup = _files_backup(accessory, backup_id)
    path = request.GET.get("path", "")
    try:
        content = services.snapshot_file(actor_of(request), backup, path)
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("backup_files", accessory_id=accessory.pk, backup_id=backup.pk)
    response = HttpResponse(content, content_type="application/octet-stream")
    filename = path.rsplit("/", 1)[-1] or "file"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def accessory_files_restore(
    request: HttpRequest, accessory_id: str, backup_id: int
) -> HttpResponse:
    accessory: Accessory = get_for(
        request.user, Accessory.objects.select_related("team"), accessory_id, Action.RESTORE_LIVE
    )
    backup = get_object_or_404(Backup.objects.select_related("repository"), pk=backup_id,
                               accessory=accessory)  # fmt: skip
    typed, actor = request.POST.get("confirm", ""), actor_of(request)
    return _started(
        request,
        accessory,
        lambda: services.start_files_restore(actor, accessory, backup, typed),
    )


@login_required
@require_POST
def accessory_verify(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    return _started(
        request, accessory, lambda: services.start_verification(actor_of(request), accessory)
    )


@login_required
def panel_backups(request: HttpRequest) -> HttpResponse:
    """The panel's own database: where it is backed up, its runs, and where its key ring is."""
    if not request.user.is_superuser:
        raise PermissionDenied("Only the panel's administrators back up its database.")
    team = team_of(request)
    policy = PanelPolicy.objects.select_related("repository", "server").first()
    form = PanelPolicyForm(request.POST or None, team_id=team.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        keep = {name: data[name] for name in ("keep_last", "keep_daily")}
        try:
            services.set_panel_policy(actor_of(request), data["repository"], data["server"],
                                      schedule=data["schedule"], keep=keep)  # fmt: skip
        except DeployRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request, f"The panel's database is backed up {in_words(data['schedule']).lower()}."
            )
            return redirect("panel_backups")
    context = {
        "policy": policy,
        "form": form,
        "runs": Backup.objects.filter(of_panel=True).select_related("repository")[:20],
        "key_ring_place": panel_backup.key_ring_place(),
        "key_ring_fingerprint": panel_backup.key_ring_fingerprint(),
        "next": next_run(policy.schedule, policy.last_started_at or policy.created_at)
        if policy
        else None,
    }
    return render(request, "backups/panel_backups.html", context)


@login_required
@require_POST
def panel_back_up(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only the panel's administrators back up its database.")
    try:
        job = services.start_panel_backup(actor_of(request))
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("panel_backups")
    return redirect("job_detail", job_id=job.pk)


@login_required
def repository_detail(request: HttpRequest, repository_id: str) -> HttpResponse:
    repository = get_object_or_404(
        Repository.objects.select_related("server"), pk=repository_id, team=team_of(request)
    )
    runs = Backup.objects.filter(repository=repository).select_related("accessory")[:20]
    context = {"repository": repository, "backups": runs}
    return render(request, "backups/repository_detail.html", context)


@login_required
@require_POST
def repository_check(request: HttpRequest, repository_id: str) -> HttpResponse:
    return _repository_job(request, repository_id, services.start_check)


@login_required
@require_POST
def repository_refresh(request: HttpRequest, repository_id: str) -> HttpResponse:
    return _repository_job(request, repository_id, services.start_listing)


def _repository_job(
    request: HttpRequest, repository_id: str, start: Callable[[Actor, Repository], Job]
) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_BACKUPS)
    repository = get_object_or_404(Repository, pk=repository_id, team=team)
    try:
        job = start(actor_of(request), repository)
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("repository_detail", repository_id=repository.pk)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def accessory_policy_new(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    form = PolicyForm(request.POST, team_id=accessory.team_id)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for found in form.errors.values() for m in found))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    data = form.cleaned_data
    services.create_policy(actor_of(request), accessory, **form.policy_options())
    messages.success(
        request, f"{accessory.name} is backed up {in_words(data['schedule']).lower()}."
    )
    return redirect("accessory_detail", accessory_id=accessory.pk)


@login_required
@require_POST
def policy_delete(request: HttpRequest, accessory_id: str, policy_id: int) -> HttpResponse:
    accessory = _managed(request, accessory_id)
    policy = get_object_or_404(Policy, pk=policy_id, accessory=accessory)
    services.delete_policy(actor_of(request), policy)
    messages.success(request, "The schedule is removed; its snapshots stay in the repositories.")
    return redirect("accessory_detail", accessory_id=accessory.pk)


def policies_of(accessory: Accessory) -> list[dict[str, Any]]:
    """Each policy as the accessory page shows it: in words, its next run, and 3-2-1."""
    shown = []
    for policy in Policy.objects.filter(accessory=accessory).prefetch_related("repositories"):
        repositories = list(policy.repositories.all())
        off_server = any(
            r.kind == RepositoryKind.S3 or r.server_id != accessory.server_id for r in repositories
        )
        shown.append({
            "policy": policy,
            "words": in_words(policy.schedule),
            "verify_words": in_words(policy.verify_schedule) if policy.verify_schedule else "",
            "next": next_run(policy.schedule, policy.last_started_at or policy.created_at),
            "repositories": repositories,
            "three_two_one": len(repositories) >= 2 and off_server,
        })  # fmt: skip
    return shown


def _files_backup(accessory: Accessory, backup_id: int) -> Backup:
    """A files snapshot of the accessory that succeeded (404 for anything else)."""
    backup = get_object_or_404(
        Backup.objects.select_related("repository", "accessory__server__ssh_key"),
        pk=backup_id,
        accessory=accessory,
        succeeded=True,
    )
    if not backup.of_files:
        raise Http404("Not a snapshot of files.")
    return backup


def _started(request: HttpRequest, accessory: Accessory, start: Callable[[], Job]) -> HttpResponse:
    """The job's page once it is started, or the accessory's page saying why it was not."""
    try:
        job = start()
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    return redirect("job_detail", job_id=job.pk)


def _managed(request: HttpRequest, accessory_id: str) -> Accessory:
    """The accessory whose backups the user manages (404 for another team's, 403 below admin)."""
    accessory: Accessory = get_for(
        request.user, Accessory.objects.select_related("team"), accessory_id, Action.MANAGE_BACKUPS
    )
    return accessory
