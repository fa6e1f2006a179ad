"""Backup schedules without a server: a driven clock starts each policy once per tick, a job
per repository; schedules are checked and said in words; only admins set them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.test import Client
from django.urls import reverse

from backups import services as backup_services
from backups.models import Policy, Repository
from backups.operations.verify import compared
from deployments import accessory_services
from deployments.models import Accessory
from panel.models import AuditEvent, Job
from panel.schedules import in_words
from servers.models import Server
from tests.conftest import Crew


def _setup(crew: Crew, server: Server) -> tuple[Accessory, list[Repository]]:
    db = accessory_services.create_accessory(
        crew.actor(crew.admin), crew.team, name="db", server=server, kind="postgres"
    )
    repositories = [
        backup_services.create_repository(
            crew.actor(crew.admin), crew.team, name="disk", kind="local", server=server,
            folder="/srv/backups",
        ),
        backup_services.create_repository(
            crew.actor(crew.admin), crew.team, name="offsite", kind="s3",
            endpoint="https://s3.example.com", bucket="backups", access_key="AKIA1",
            secret_key="s3-secret",
        ),
    ]  # fmt: skip
    return db, repositories


def test_a_driven_clock_starts_each_policy_once_per_tick_with_a_job_per_repository(
    crew: Crew, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repositories = _setup(crew, server)
    policy = backup_services.create_policy(
        crew.actor(crew.admin), db, schedule="0 3 * * *", repositories=repositories,
        keep={"keep_last": 2, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    )  # fmt: skip
    Policy.objects.filter(pk=policy.pk).update(created_at=datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=False):
        assert backup_services.start_due(datetime(2026, 11, 22, 2, 59, tzinfo=UTC)) == []
        started = backup_services.start_due(datetime(2026, 11, 22, 3, 0, 30, tzinfo=UTC))
        assert backup_services.start_due(datetime(2026, 11, 22, 3, 1, tzinfo=UTC)) == []
        later = backup_services.start_due(datetime(2026, 11, 23, 3, 0, 5, tzinfo=UTC))
    assert len(started) == 2 and len(later) == 2
    assert {job.params["repository"] for job in started} == {"disk", "offsite"}
    assert all(job.params["policy_id"] == policy.pk for job in started)
    assert Job.objects.filter(kind="backup.run", actor_label="schedule").count() == 4


def test_schedules_are_checked_said_in_words_and_set_by_admins(
    crew: Crew, client: Client, server: Server
) -> None:
    db, repositories = _setup(crew, server)
    assert in_words("0 3 * * *") == "At 03:00 AM"
    url = reverse("accessory_policy_new", args=[db.pk])
    given = {"schedule": "0 3 * * *", "repositories": [r.pk for r in repositories],
             "keep_last": 7, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 6,
             "timeout_minutes": 90}  # fmt: skip
    client.force_login(crew.deployer)
    assert client.post(url, given).status_code == 403
    client.force_login(crew.admin)
    for bad in ("* * *", "0 3 * * * *", "61 * * * *", "0 3 * * *; touch x"):
        client.post(url, {**given, "schedule": bad})
    client.post(url, {**given, "timeout_minutes": 0})
    client.post(url, {**given, "check_query": "SELECT 1"})  # without its database and output
    client.post(url, {**given, "check_database": "a;b", "check_query": "SELECT 1",
                      "check_expected": "1"})  # fmt: skip
    assert not Policy.objects.exists()
    client.post(url, given)
    policy = Policy.objects.get()
    assert policy.timeout_minutes == 90
    assert AuditEvent.objects.filter(action="backup.policy.create").exists()
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert "At 03:00 AM" in page and "3-2-1" in page
    client.post(reverse("policy_delete", args=[db.pk, policy.pk]))
    assert not Policy.objects.exists()


def test_a_driven_clock_starts_a_verification_once_per_tick_of_its_own_schedule(
    crew: Crew, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repositories = _setup(crew, server)
    policy = backup_services.create_policy(
        crew.actor(crew.admin), db, schedule="0 3 1 1 *", repositories=repositories,
        keep={"keep_last": 2, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
        verify_schedule="0 5 * * 0",
    )  # fmt: skip
    Policy.objects.filter(pk=policy.pk).update(created_at=datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    sunday_five = datetime(2026, 11, 22, 5, 0, 20, tzinfo=UTC)  # 2026-11-22 is a Sunday
    with django_capture_on_commit_callbacks(execute=False):
        assert backup_services.start_due(datetime(2026, 11, 22, 4, 59, tzinfo=UTC)) == []
        started = backup_services.start_due(sunday_five)
        assert backup_services.start_due(datetime(2026, 11, 22, 5, 1, tzinfo=UTC)) == []
    assert [job.kind for job in started] == ["backup.verify"]
    assert started[0].params == {"policy_id": policy.pk} and started[0].actor_label == "schedule"


def test_rows_compared_name_each_table_that_differs() -> None:
    made = "app.public.orders 10\napp.public.users 3"
    assert compared(made, "app.public.orders 10\napp.public.users 3") == []
    assert compared("", "anything 1") == []  # none recorded: nothing to compare
    assert compared(made, "app.public.orders 9") == [
        "app.public.orders: 10 when made, 9 restored",
        "app.public.users: 3 when made, absent restored",
    ]
