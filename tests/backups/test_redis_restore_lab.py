"""Redis on the lab: its RDB backed up, loaded by a scratch copy as it starts (with its
append-only file written afterwards), counted key by key, and made live again after a FLUSHALL;
the live Redis keeps the keys through a reboot."""

from __future__ import annotations

import asyncio

import pytest

from backups import services as backup_services
from backups.models import Backup, ScratchCopy
from backups.operations.promote import promote
from backups.operations.restore import restore_to_scratch
from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations import accessories as operations
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.backups.lab_backups import back_up_now, clean, local
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.deployments.lab_accessories import added, gone

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
FILL = "for i = 1, 1000 do redis.call('SET', 'k' .. i, i) end"


def _redis(db: Accessory, *command: str) -> str:
    asked = accessories.ask(db.name, sorted(operations.secrets_of(db)[0]),
                            ["redis-cli", "--no-auth-warning", *command])  # fmt: skip
    return asyncio.run(ssh.run(target_for(db.server), asked)).stdout.strip()


def test_a_flushed_redis_comes_back_from_its_backup_through_a_scratch_copy(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[2]
    db = added(crew, server, "cache", "redis")
    clean(server)
    try:
        boot = services.start_accessory_job(crew.actor(crew.admin), db, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        _redis(db, "EVAL", FILL, "0")
        _redis(db, "SET", "session", "short-lived", "EX", "3600")
        repository = local(crew, db)
        outcome, log = back_up_now(crew, db, repository)
        assert outcome == "succeeded", log
        backup = Backup.objects.get(repository=repository)
        assert backup.rows == "redis.db0 1000"  # the key that expires is not counted

        _redis(db, "FLUSHALL")  # the mistake a restore is for
        job = backup_services.start_scratch_restore(crew.actor(crew.admin), db, backup)
        assert run_job(job.pk, restore_to_scratch) == "succeeded", log_of(job)
        copy = ScratchCopy.objects.get(accessory=db)
        assert copy.summary == "redis.db0 1000"
        assert _redis(db, "DBSIZE") == "0"  # live untouched

        promotion = backup_services.start_promotion(crew.actor(crew.owner), db, copy, db.name)
        assert run_job(promotion.pk, promote) == "succeeded", log_of(promotion)
        assert _redis(db, "GET", "k777") == "777" and _redis(db, "DBSIZE") == "1001"
        reboot = services.start_accessory_job(crew.actor(crew.admin), db, "reboot")
        assert run_job(reboot.pk, operations.reboot) == "succeeded", log_of(reboot)
        assert _redis(db, "DBSIZE") == "1001"  # its append-only file holds them
    finally:
        gone(db)
        target = target_for(server)
        for name in ("cache-scratch", "cache-kept-scratch"):
            asyncio.run(ssh.run(target, accessories.remove(name), check=False))
        clean(server)
