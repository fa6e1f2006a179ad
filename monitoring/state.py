"""Where monitoring's records change: servers claimed by a round, a reading or a failure
recorded (with the reboots and reachability changes they mean), rollups made, old samples
pruned."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Avg, Count, Max, Min
from django.db.models.functions import Now

from deployments.models import App
from monitoring.metrics import Counters, Reading
from monitoring.models import (
    EventKind,
    HostEvent,
    HostHealth,
    HostStatus,
    Rollup,
    Round,
    Sample,
    UptimeCheck,
    UptimeResult,
)
from servers.models import HostKeyState, Server

UNREACHABLE_AFTER = 2  # rounds failed in a row
EARLY = 5  # seconds
ROUNDS_LATE = timedelta(seconds=90)  # no round for this long: beat or the workers stopped
SAMPLES_KEPT = timedelta(hours=48)
ROLLUPS_KEPT = timedelta(days=90)
BUCKET = timedelta(minutes=5)
# The last reading's values kept on the server's state, for pages and the metrics endpoint.
LATEST = ("cpu_pct", "iowait_pct", "load1", "memory_pct", "memory_used", "memory_total",
          "swap_used", "disk_pct", "disk_read_bps", "disk_write_bps", "disk_busy_pct",
          "net_in_bps", "net_out_bps", "processes", "threads", "tcp_connections")  # fmt: skip
ROLLED = {"cpu": "cpu_pct", "iowait": "iowait_pct", "memory": "memory_pct", "disk": "disk_pct",
          "load": "load1", "net_in": "net_in_bps", "net_out": "net_out_bps"}  # fmt: skip


def claim_due(now: datetime) -> list[HostHealth]:
    """Servers whose interval has passed since a round last took them, taken by this round
    (a round still running elsewhere does not take them twice), with their servers. A little
    early counts as due, so that rounds a beat apart do not skip one."""
    trusted = Server.objects.filter(host_key_state=HostKeyState.TRUSTED).exclude(host_key="")
    HostHealth.objects.bulk_create(
        [HostHealth(server_id=pk) for pk in trusted.filter(health__isnull=True).values_list(
            "pk", flat=True)],
        ignore_conflicts=True,
    )  # fmt: skip
    with transaction.atomic():
        rows = HostHealth.objects.select_for_update().filter(server__in=trusted)
        due = [
            health.server_id
            for health in rows.only("server_id", "claimed_at", "interval_seconds")
            if health.claimed_at is None
            or now - health.claimed_at >= timedelta(seconds=health.interval_seconds - EARLY)
        ]
        HostHealth.objects.filter(server_id__in=due).update(claimed_at=now)
    found = HostHealth.objects.filter(server_id__in=due).select_related("server__ssh_key")
    return sorted(found, key=lambda health: health.server_id)


def before(health: HostHealth) -> Counters | None:
    """What the server's next rates are computed against."""
    return Counters.from_json(health.counters)


# Fields a round writes on each server's state, all servers in one statement.
RECORDED = ("status", "failures", "last_error", "seen_at", "counters", "boot_id", "booted_at",
            "reboot_required", "docker_socket", "latest")  # fmt: skip


def recorded(readings: list[tuple[HostHealth, Reading]], at: datetime) -> list[Sample]:
    """The round's readings saved: a sample each, the servers' states, and the reboots and
    returns they mean as events; a few statements whatever the number of servers."""
    samples, events = [], []
    for health, reading in readings:
        sample = _sample(health.server, reading, at)
        booted = at - timedelta(seconds=reading.uptime_seconds)
        if health.boot_id and health.boot_id != reading.boot_id:
            detail = f"up since {booted:%Y-%m-%d %H:%M} UTC"
            events.append(HostEvent(server=health.server, at=at, kind=EventKind.REBOOTED,
                                    detail=detail))  # fmt: skip
        if health.status == HostStatus.UNREACHABLE:
            events.append(HostEvent(server=health.server, at=at, kind=EventKind.REACHABLE))
        health.status, health.failures, health.last_error = HostStatus.UP, 0, ""
        health.seen_at, health.counters = at, reading.counters.as_json()
        health.boot_id, health.booted_at = reading.boot_id, booted
        health.reboot_required = reading.reboot_required
        health.docker_socket = reading.docker_socket
        fullest = reading.fullest
        health.latest = {
            **{name: getattr(sample, name) for name in LATEST},
            "disk_path": fullest.path if fullest else "",
            "containers": sample.containers, "mounts": sample.mounts,
        }  # fmt: skip
        samples.append(sample)
    with transaction.atomic():
        Sample.objects.bulk_create(samples)
        HostEvent.objects.bulk_create(events)
        _update_each([health for health, _ in readings], RECORDED)
    return samples


def _update_each(healths: list[HostHealth], names: tuple[str, ...]) -> None:
    """One UPDATE statement run for every row with its own values (`bulk_update` builds a
    CASE per field and row, which costs more than the round's SSH)."""
    if not healths:
        return
    fields = [field for field in HostHealth._meta.concrete_fields if field.name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.name)} = %s" for field in fields)  # plain fields
    key = quote("server_id")
    sql = f"UPDATE {quote(HostHealth._meta.db_table)} SET {assignments} WHERE {key} = %s"  # noqa: S608 (names from the model)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [
            [*(field.get_db_prep_save(getattr(health, field.attname), connection)
               for field in fields), health.pk]
            for health in healths
        ])  # fmt: skip


def _sample(server: Server, reading: Reading, at: datetime) -> Sample:
    fullest = reading.fullest
    return Sample(
        server=server, at=at, cpu_pct=reading.cpu_pct, iowait_pct=reading.iowait_pct,
        load1=reading.load1, memory_pct=round(reading.memory_pct, 2),
        memory_used=reading.memory_used, memory_total=reading.memory_total,
        swap_used=reading.swap_used, disk_pct=fullest.used_pct if fullest else None,
        disk_read_bps=reading.disk_read_bps, disk_write_bps=reading.disk_write_bps,
        disk_busy_pct=reading.disk_busy_pct, net_in_bps=reading.net_in_bps,
        net_out_bps=reading.net_out_bps, processes=reading.processes, threads=reading.threads,
        tcp_connections=reading.tcp_connections,
        mounts=[{"path": m.path, "pct": m.used_pct, "inodes_pct": m.inodes_pct,
                 "size": m.size_bytes, "hours_left": m.hours_left} for m in reading.mounts],
        containers=[dict(vars(container)) for container in reading.containers],
    )  # fmt: skip


def failed(health: HostHealth, error: str, at: datetime) -> HostHealth:
    """A round that did not answer; the second in a row makes the server unreachable."""
    with transaction.atomic():
        health.failures += 1
        health.last_error = error[:2000]
        if health.failures >= UNREACHABLE_AFTER and health.status != HostStatus.UNREACHABLE:
            health.status = HostStatus.UNREACHABLE
            _event(health.server, at, EventKind.UNREACHABLE, error[:500])
        health.save(update_fields=["failures", "last_error", "status"])
    return health


def rounds_stopped(now: datetime) -> tuple[bool, Round | None]:
    """Whether the rounds have stopped (or never ran), and the last one."""
    last = Round.objects.order_by("-started_at").first()
    return last is None or now - last.started_at > ROUNDS_LATE, last


def round_done(started: datetime, seconds: float, servers: int, answered: int) -> None:
    Round.objects.create(started_at=started, seconds=seconds, servers=servers, answered=answered)


def roll_up(now: datetime) -> int:
    """Each finished 5-minute bucket since the last rollup, made from its samples; made again
    (replaced) when run twice."""
    latest = Rollup.objects.aggregate(latest=Max("bucket"))["latest"]
    start = _bucket(latest + BUCKET if latest else now - SAMPLES_KEPT)
    end = _bucket(now)
    made = 0
    while start < end:
        aggregates = {
            f"{name}_{how.__name__.lower()}": how(field)
            for name, field in ROLLED.items()
            for how in (Min, Avg, Max)
        }
        rows = (
            Sample.objects.filter(at__gte=start, at__lt=start + BUCKET)
            .values("server_id")
            .annotate(samples=Count("id"), **aggregates)
        )
        with transaction.atomic():
            Rollup.objects.filter(bucket=start).delete()
            Rollup.objects.bulk_create(Rollup(bucket=start, **row) for row in rows)
        made += len(rows)
        start += BUCKET
    return made


def sync_app_checks() -> None:
    """An uptime check for each domain of each app (https when the app has TLS); checks of
    domains an app no longer has are removed."""
    wanted: set[tuple[int, str, str]] = set()
    for app in App.objects.exclude(domains=[]).only("pk", "team_id", "domains", "tls"):
        scheme = "https" if app.tls else "http"
        wanted |= {(app.team_id, str(app.pk), f"{scheme}://{domain}/") for domain in app.domains}
    existing = {(c.team_id, str(c.app_id), c.url): c.pk
                for c in UptimeCheck.objects.exclude(app=None)}  # fmt: skip
    UptimeCheck.objects.filter(
        pk__in=[pk for key, pk in existing.items() if key not in wanted]
    ).delete()
    UptimeCheck.objects.bulk_create(
        [
            UptimeCheck(team_id=team, app_id=app, url=url)
            for team, app, url in wanted - set(existing)
        ],
        ignore_conflicts=True,
    )


def probed(
    check: UptimeCheck, ok: bool, status: int | None, latency_ms: float | None, error: str,
    certificate_expires_at: datetime | None, at: datetime,
) -> None:  # fmt: skip
    check.last_checked_at, check.last_ok, check.last_status = at, ok, status
    check.last_latency_ms, check.last_error = latency_ms, error[:1000]
    check.failures = 0 if ok else check.failures + 1
    if certificate_expires_at is not None:
        check.certificate_expires_at = certificate_expires_at
    with transaction.atomic():
        check.save()
        UptimeResult.objects.create(uptime_check=check, at=at, ok=ok, latency_ms=latency_ms)


def prune(now: datetime) -> tuple[int, int]:
    samples, _ = Sample.objects.filter(at__lt=now - SAMPLES_KEPT).delete()
    rollups, _ = Rollup.objects.filter(bucket__lt=now - ROLLUPS_KEPT).delete()
    UptimeResult.objects.filter(at__lt=now - ROLLUPS_KEPT).delete()
    Round.objects.filter(started_at__lt=Now() - SAMPLES_KEPT).delete()
    return samples, rollups


def _bucket(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def _event(server: Server, at: datetime, kind: EventKind, detail: str) -> None:
    HostEvent.objects.create(server=server, at=at, kind=kind, detail=detail)
