"""The state of apps, releases and containers: every transition, with its audit event.

Operations, the reaper and services change this state only through these functions, so a
release cannot go live, fail or lose its containers without the same rows changing together.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deployments import git
from deployments.models import App, Container, Release, ReleaseStatus
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Job


def start(release: Release, job: Job) -> None:
    """The release is being deployed by this job."""
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.PENDING, job=job)


def again(app: App, source: Release, kind: str, actor: Actor) -> Release:
    """A new release of an earlier one's image (by digest where known) and commit."""
    return Release.objects.create(
        app=app,
        version=source.version,
        image=source.image,
        image_digest=source.image_digest,
        commit=source.commit,
        commit_message=source.commit_message,
        kind=kind,
        created_by=actor.user,
        created_by_label=actor.label,
    )


def pin_commit(release: Release, sha: str, subject: str, image: str) -> Release:
    """An app built from git: the release is this commit, and its image is named after it."""
    Release.objects.filter(pk=release.pk).update(
        version=sha[:12], commit=sha, commit_message=subject, image=image
    )
    release.refresh_from_db()
    return release


def record_digest(release: Release, digest: str) -> None:
    if digest and "@sha256:" in digest:
        Release.objects.filter(pk=release.pk).update(image_digest=digest)
        release.image_digest = digest


def fail(release: Release, actor: Actor, reason: str) -> bool:
    """A release that did not go live failed (a live or retired one keeps its status)."""
    with transaction.atomic():
        changed = Release.objects.filter(pk=release.pk, status=ReleaseStatus.PENDING).update(
            status=ReleaseStatus.FAILED
        )
        if changed:
            audit.record(
                actor,
                AuditAction.RELEASE_FAIL,
                team=release.app.team,
                target=release.app,
                details={"version": release.version, "reason": reason[:300]},
            )
    return bool(changed)


def record_container(release: Release, server_id: int, role: str, name: str) -> None:
    """Recorded before `docker run`, so whatever happens next knows what to remove."""
    Container.objects.create(
        release=release, server_id=server_id, role=role, name=name, running=True
    )


def forget_containers(names: list[str]) -> None:
    Container.objects.filter(name__in=names).delete()


def serving(app: App, server_id: int, name: str) -> None:
    """The proxy on this server now sends the app to `name` (empty: to no container)."""
    on_server = Container.objects.filter(release__app=app, server_id=server_id)
    with transaction.atomic():
        on_server.exclude(name=name).update(serving=False)
        if name:
            on_server.filter(name=name).update(serving=True)


def serving_names(app: App) -> dict[int, str]:
    """Per server, the container its proxy sends the app to."""
    rows = Container.objects.filter(release__app=app, serving=True)
    return dict(rows.values_list("server_id", "name"))


def go_live(app: App, release: Release, replaced: list[str], actor: Actor) -> None:
    """The release serves: the containers it replaced stop counting as running, the release
    before it retires, and the app points at it."""
    with transaction.atomic():
        Container.objects.filter(name__in=replaced).update(running=False)
        Release.objects.filter(app=app, status=ReleaseStatus.LIVE).exclude(pk=release.pk).update(
            status=ReleaseStatus.RETIRED
        )
        Release.objects.filter(pk=release.pk).update(
            status=ReleaseStatus.LIVE, live_at=timezone.now()
        )
        App.objects.filter(pk=app.pk).update(current_release=release, stopped=False)
        audit.record(
            actor,
            AuditAction.RELEASE_LIVE,
            team=app.team,
            target=app,
            details={"version": release.version, "image": release.run_image, "kind": release.kind},
        )


def record_switch_revert(app: App, actor: Actor, details: dict[str, str]) -> None:
    audit.record(
        actor, AuditAction.RELEASE_SWITCH_REVERT, team=app.team, target=app, details=details
    )


def stopped(app: App, actor: Actor) -> None:
    with transaction.atomic():
        App.objects.filter(pk=app.pk).update(stopped=True)
        audit.record(actor, AuditAction.APP_STOP, team=app.team, target=app)


def started(app: App, actor: Actor) -> None:
    with transaction.atomic():
        App.objects.filter(pk=app.pk).update(stopped=False)
        audit.record(actor, AuditAction.APP_START, team=app.team, target=app)


def removed(app: App, server_names: list[str], actor: Actor) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.APP_REMOVE,
            team=app.team,
            target=app,
            details={"servers": server_names},
        )
        app.delete()


def pruned(container_ids: list[int]) -> None:
    Container.objects.filter(pk__in=container_ids).delete()


def interrupted(job: Job) -> list[Container]:
    """The reaper stopped this job: its releases that were not live failed. Returns the
    containers they started, for the caller to remove from their servers."""
    releases = Release.objects.filter(job=job, status=ReleaseStatus.PENDING).select_related(
        "app__team"
    )
    started_rows = list(
        Container.objects.filter(release__in=releases).select_related(
            "server__ssh_key", "release__app__team", "release__app__current_release"
        )
    )
    for release in releases:
        fail(release, Actor.system("reaper"), "the job was interrupted")
    return started_rows


def trust_git_host_key(actor: Actor, app: App, known_hosts: str) -> None:
    """Trust on first use, per app: the key ssh met on the first fetch is required after."""
    with transaction.atomic():
        if App.objects.filter(Q(pk=app.pk) & Q(git_host_key="")).update(git_host_key=known_hosts):
            audit.record(
                actor,
                AuditAction.APP_GIT_HOST_KEY_TRUST,
                team=app.team,
                target=app,
                details={"fingerprints": ", ".join(git.host_key_fingerprints(known_hosts))},
            )
    app.git_host_key = known_hosts
