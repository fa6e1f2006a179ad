"""A server's charts over a range: its samples for the last hour or day, its 5-minute rollups
for a week or a month, gathered into points a chart can show."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.charts import Point, downsample, regrouped
from monitoring.models import Rollup, Sample

RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}  # fmt: skip
RAW_UP_TO = timedelta(hours=24)
# What is charted: the sample's field, the rollup's prefix, the title, the unit, the top.
CHARTS = (
    ("cpu_pct", "cpu", "CPU", "%", 100.0),
    ("memory_pct", "memory", "Memory", "%", 100.0),
    ("disk_pct", "disk", "Fullest disk", "%", 100.0),
    ("iowait_pct", "iowait", "I/O wait", "%", 100.0),
    ("net_in_bps", "net_in", "Network in", "B/s", None),
    ("net_out_bps", "net_out", "Network out", "B/s", None),
)


def series(server_id: int, span: str, now: datetime) -> dict[str, list[Point]]:
    since = now - RANGES[span]
    if RANGES[span] <= RAW_UP_TO:
        fields = [field for field, *_ in CHARTS]
        rows = list(
            Sample.objects.filter(server_id=server_id, at__gte=since)
            .order_by("at")
            .values_list("at", *fields)
        )
        return {
            field: downsample([(row[0], row[index + 1]) for row in rows])
            for index, field in enumerate(fields)
        }
    columns = [f"{prefix}_{how}" for _, prefix, *_ in CHARTS for how in ("min", "avg", "max")]
    rolled = list(
        Rollup.objects.filter(server_id=server_id, bucket__gte=since)
        .order_by("bucket")
        .values_list("bucket", *columns)
    )
    charts = {}
    for index, (field, *_) in enumerate(CHARTS):
        low, mid, high = 1 + 3 * index, 2 + 3 * index, 3 + 3 * index
        points = [Point(row[0], row[low], row[mid], row[high]) for row in rolled
                  if row[mid] is not None]  # fmt: skip
        charts[field] = regrouped(points)
    return charts


APP_RANGES = ("1h", "24h")  # containers are kept in the samples (48 h), not in the rollups
APP_CHARTS = (("cpu_pct", "CPU", "% of a core", None), ("memory_bytes", "Memory", "B", None))
ROUND = 30  # seconds: samples of the app's servers within one are added up


def app_series(
    app_name: str, server_ids: list[int], span: str, now: datetime
) -> dict[str, list[Point]]:
    """The app's containers on all its servers, added up per round: CPU (percent of one
    core, as `docker stats`) and memory."""
    rows = (
        Sample.objects.filter(server_id__in=server_ids, at__gte=now - RANGES[span])
        .order_by("at")
        .values_list("at", "containers")
    )
    totals: dict[str, dict[datetime, float]] = {field: {} for field, *_ in APP_CHARTS}
    for at, containers in rows.iterator():
        mine = [c for c in containers if c.get("app") == app_name and c.get("state") == "running"]
        if not mine:
            continue
        when = at - timedelta(seconds=at.timestamp() % ROUND, microseconds=at.microsecond)
        for field, *_ in APP_CHARTS:
            values = [c[field] for c in mine if c.get(field) is not None]
            if values:
                totals[field][when] = totals[field].get(when, 0.0) + sum(values)
    return {field: downsample(sorted(points.items())) for field, points in totals.items()}
