"""A deploy's end seen by monitoring: a failed one opens its app's alert (one, however many
fail in a row), the next that succeeds resolves it and tells the channels that follow deploys;
a server whose host key changed has an alert until its key is trusted again."""

from __future__ import annotations

from django.utils import timezone

from monitoring import services as monitoring_services
from monitoring.models import Alert, AlertKind, Notification
from monitoring.operations.evaluate import evaluate_host_keys
from panel.jobs.runner import finish
from panel.models import Job, JobKind, JobStatus
from servers.models import HostKeyState
from tests.conftest import Crew, new_server


def _deploy(crew: Crew, kind: str = JobKind.APP_DEPLOY) -> Job:
    return Job.objects.create(kind=kind, team=crew.team, target_type="deployments.app",
                              target_id="x", target_label="shop", params={"version": "v7"},
                              status=JobStatus.RUNNING, actor_label="ann")  # fmt: skip


def test_a_failed_deploy_alerts_until_one_succeeds(crew: Crew) -> None:
    actor = crew.actor(crew.admin)
    monitoring_services.create_channel(actor, crew.team, name="all", url="json://hooks.test/a",
                                       kinds=[], deploys=True)  # fmt: skip
    monitoring_services.create_channel(actor, crew.team, name="disk", url="json://hooks.test/b",
                                       kinds=[AlertKind.DISK.value])  # fmt: skip
    for _ in range(2):
        finish(_deploy(crew).pk, None, JobStatus.FAILED, "The health check never passed.")
    alert = Alert.objects.get(kind=AlertKind.DEPLOY_FAILED)
    assert alert.title == "The deploy of shop failed" and alert.subject == "shop"
    assert "health check never passed" in alert.detail and alert.resolved_at is None
    finish(_deploy(crew, JobKind.APP_ROLLBACK).pk, None, JobStatus.SUCCEEDED, "")
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    sent = list(Notification.objects.order_by("pk").values_list("channel__name", "event", "title"))
    assert sent == [
        ("all", "opened", "[Alert] The deploy of shop failed"),
        ("all", "resolved", "[Resolved] The deploy of shop failed"),
        ("all", "deployed", "[Deployed] shop v7"),
    ]
    other = Job.objects.create(kind=JobKind.SERVER_CHECK, team=crew.team, actor_label="ann",
                               status=JobStatus.RUNNING)  # fmt: skip
    finish(other.pk, None, JobStatus.FAILED, "unreachable")
    assert Alert.objects.count() == 1


def test_a_changed_host_key_alerts_until_trusted_again(crew: Crew) -> None:
    server = new_server(crew)
    server.host_key_state = HostKeyState.CHANGED
    server.save()
    evaluate_host_keys(timezone.now())
    evaluate_host_keys(timezone.now())
    alert = Alert.objects.get(kind=AlertKind.HOST_KEY)
    assert alert.server == server and alert.title == "web-1: host key changed"
    server.host_key_state = HostKeyState.TRUSTED
    server.save()
    evaluate_host_keys(timezone.now())
    alert.refresh_from_db()
    assert alert.resolved_at is not None
