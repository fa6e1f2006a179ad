from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from panel import audit
from panel.models import AuditAction, AuditEvent
from panel.sensitive import Sensitive
from tests.conftest import Crew


def _three_events(crew: Crew) -> list[AuditEvent]:
    actor = crew.actor(crew.admin)
    return [
        audit.record(actor, action, team=crew.team, target=crew.team)
        for action in (AuditAction.APP_CREATE, AuditAction.APP_UPDATE, AuditAction.APP_REMOVE)
    ]


def test_an_untouched_chain_verifies(crew: Crew) -> None:
    _three_events(crew)
    assert list(audit.verify_chain()) == []
    call_command("audit", "verify")


def test_each_event_carries_the_previous_hash(crew: Crew) -> None:
    first, second, third = _three_events(crew)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash


def test_an_edited_event_is_detected(crew: Crew) -> None:
    _, second, _ = _three_events(crew)
    AuditEvent.objects.filter(pk=second.pk).update(actor_label="someone else")
    problems = list(audit.verify_chain())
    assert [p.event_id for p in problems] == [second.pk]
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_a_removed_event_is_detected(crew: Crew) -> None:
    _, second, third = _three_events(crew)
    AuditEvent.objects.filter(pk=second.pk)._raw_delete(AuditEvent.objects.db)
    assert [p.event_id for p in audit.verify_chain()] == [third.pk]


def test_removing_the_newest_event_is_detected(crew: Crew) -> None:
    *_, third = _three_events(crew)
    AuditEvent.objects.filter(pk=third.pk)._raw_delete(AuditEvent.objects.db)
    assert [p.event_id for p in audit.verify_chain()] == [0]


def test_events_cannot_be_edited_or_deleted_through_the_app(crew: Crew) -> None:
    event = _three_events(crew)[0]
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_secret_values_in_details_are_masked(crew: Crew) -> None:
    event = audit.record(
        crew.actor(crew.admin),
        AuditAction.APP_ENV_SET,
        team=crew.team,
        details={
            "name": "DB_URL",
            "value": Sensitive("postgres://u:pw@db"),
            "registry_password": "plain-but-secret",
            "nested": {"api_token": "t0k3n", "count": 3},
        },
    )
    stored = AuditEvent.objects.get(pk=event.pk).details
    assert stored == {
        "name": "DB_URL",
        "value": "[REDACTED]",
        "registry_password": "[REDACTED]",
        "nested": {"api_token": "[REDACTED]", "count": 3},
    }


def test_the_actor_and_address_are_recorded(crew: Crew) -> None:
    event = audit.record(crew.actor(crew.deployer), AuditAction.JOB_APP_DEPLOY, team=crew.team)
    assert (event.actor_type, event.actor_label, event.ip) == ("user", "dora", "192.0.2.10")


def test_a_flag_about_a_secret_stays_readable_while_its_value_is_masked(crew: Crew) -> None:
    event = audit.record(
        crew.actor(crew.admin),
        AuditAction.APP_ENV_SET,
        team=crew.team,
        details={"key": "MODE", "secret": False, "token": None, "api_token": "t0k3n"},
    )
    stored = AuditEvent.objects.get(pk=event.pk).details
    assert stored == {"key": "MODE", "secret": False, "token": None, "api_token": "[REDACTED]"}
