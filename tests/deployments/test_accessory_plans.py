"""Accessory plans are pure, and creating one stores a generated password encrypted only."""

from __future__ import annotations

import json

from deployments import accessory_services as services
from deployments.accessory_plans import AccessorySpec, plan_boot, plan_reboot, plan_remove
from deployments.models import Accessory
from panel.models import AuditEvent
from servers.plans import Host, Put, Run, WaitFor
from tests.conftest import Crew, new_server
from tests.deployments.conftest import SECRET

HOST_SPEC = AccessorySpec(
    name="db",
    host=Host(1, "web-1"),
    home="/home/deploy",
    image="postgres:17",
    env_names=("POSTGRES_PASSWORD", "POSTGRES_USER"),
    volumes=("panel-accessory-db-data:/var/lib/postgresql/data",),
    publish=(),
    command=(),
    ready=("pg_isready", "--quiet"),
    ready_timeout=30.0,
    owner="id-1",
)


def test_a_boot_pulls_only_a_missing_image_writes_its_variables_and_waits() -> None:
    plan = plan_boot(HOST_SPEC)
    assert [phase.title for phase in plan.phases] == [
        "Data volume",
        "Image",
        "Stop",
        "Files",
        "Start and wait until ready",
        "Remove the old container",
    ]
    own = plan.phases[0].lanes[0][0]
    assert isinstance(own, Run) and own.argv[-2:] == ("panel-accessory-db-data", "id-1")
    pull = plan.phases[1].lanes[0][0]
    assert isinstance(pull, Run) and pull.unless[:3] == ("docker", "image", "inspect")
    aside = plan.phases[2].lanes[0][0]
    assert isinstance(aside, Run) and aside.argv[-1] == "panel-accessory-db-previous"
    env = plan.phases[3].lanes[0][1]
    assert isinstance(env, Put) and env.mode == 0o600 and env.holds == HOST_SPEC.env_names
    run, wait = plan.phases[4].lanes[0]
    assert isinstance(run, Run) and "--network-alias" in run.argv and "db" in run.argv
    assert "--publish" not in run.argv  # nothing is published unless asked
    assert isinstance(wait, WaitFor) and wait.argv[-2:] == ("pg_isready", "--quiet")


def test_a_reboot_keeps_the_volume_and_a_removal_keeps_data_unless_asked() -> None:
    reboot = plan_reboot(HOST_SPEC).commands()
    assert not any("volume" in line and " rm " in line for line in reboot)
    assert not any(
        "volume rm" in line for line in plan_remove(HOST_SPEC, with_data=False).commands()
    )
    assert any(
        "docker volume rm --force panel-accessory-db-data" in line
        for line in plan_remove(HOST_SPEC, with_data=True).commands()
    )


def test_a_new_accessory_gets_a_password_stored_encrypted_and_audited_masked(
    crew: Crew,
) -> None:
    server = new_server(crew)
    db = services.create_accessory(
        crew.actor(crew.admin), crew.team, name="db", server=server, kind="postgres"
    )
    stored = str(Accessory.objects.filter(pk=db.pk).values_list("env", flat=True)[0])
    password = json.loads(db.env.reveal())["password"]
    assert len(password) >= 24 and password not in stored and SECRET not in stored
    event = AuditEvent.objects.get(action="accessory.create")
    assert password not in str(event.details) and event.details["kind"] == "postgres"
    assert db.volumes == ["panel-accessory-db-data:/var/lib/postgresql/data"]
