"""Docker cleanup's plan from Docker's own account of the disk: only the apps' stopped
containers no retained release names, the apps' images no retained release uses (removed by
their tags, never forced), untagged images, old build cache, and volumes listed by name;
other software's things and whatever a container still uses are never candidates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servers.cleanup import Keep, candidates, plan, repository, usage
from servers.plans import Host, Run

REPO = "registry.example.com/acme/shop"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DF: dict[str, Any] = {
    "LayersSize": 5000, "BuilderSize": 700,
    "Images": [
        {"Id": "sha256:v1", "RepoTags": [f"{REPO}:v1"], "RepoDigests": [f"{REPO}@sha256:d1"],
         "Size": 100},
        {"Id": "sha256:v2", "RepoTags": [f"{REPO}:v2"], "RepoDigests": [], "Size": 200},
        {"Id": "sha256:v3", "RepoTags": [], "RepoDigests": [f"{REPO}@sha256:d3"], "Size": 300},
        {"Id": "sha256:old", "RepoTags": [f"{REPO}:v0", f"{REPO}:latest"], "Size": 400},
        {"Id": "sha256:pg", "RepoTags": ["postgres:17"], "Size": 500},
        {"Id": "sha256:other", "RepoTags": ["grafana/grafana:11"], "Size": 600},
        {"Id": "sha256:none", "RepoTags": ["<none>:<none>"], "RepoDigests": [], "Size": 70},
        {"Id": "sha256:busy", "RepoTags": [], "Size": 80},
    ],
    "Containers": [
        {"Id": "c1", "Names": ["/shop-web-v1-aa"], "State": "exited", "ImageID": "sha256:v1",
         "Labels": {"panel.app": "shop"}, "SizeRw": 10},
        {"Id": "c0", "Names": ["/shop-web-v0-bb"], "State": "exited", "ImageID": "sha256:old",
         "Labels": {"panel.app": "shop"}, "SizeRw": 20},
        {"Id": "c9", "Names": ["/shop-web-v2-cc"], "State": "running", "ImageID": "sha256:v2",
         "Labels": {"panel.app": "shop"}, "SizeRw": 5},
        {"Id": "g1", "Names": ["/grafana"], "State": "exited", "ImageID": "sha256:other",
         "Labels": {}, "SizeRw": 30},
        {"Id": "b1", "Names": ["/builder"], "State": "exited", "ImageID": "sha256:busy",
         "Labels": None, "SizeRw": 1},
    ],
    "Volumes": [
        {"Name": "panel-accessory-db-data", "UsageData": {"RefCount": 0, "Size": 900}},
        {"Name": "scratch", "UsageData": {"RefCount": 0, "Size": 50}},
        {"Name": "in-use", "UsageData": {"RefCount": 1, "Size": 60}},
    ],
    "BuildCache": [
        {"ID": "k1", "InUse": False, "Size": 300, "LastUsedAt": "2026-11-01T00:00:00.1Z"},
        {"ID": "k2", "InUse": False, "Size": 400, "LastUsedAt": "2026-11-22T00:00:00.1Z"},
        {"ID": "k3", "InUse": True, "Size": 500, "LastUsedAt": "2026-10-01T00:00:00.1Z"},
    ],
}  # fmt: skip
KEEP = Keep(
    images=frozenset({f"{REPO}:v1", f"{REPO}@sha256:d1", f"{REPO}:v2", f"{REPO}@sha256:d3"}),
    repositories=frozenset({REPO}),
    containers=frozenset({"shop-web-v1-aa", "shop-web-v2-cc", "panel-proxy"}),
)


def test_only_what_the_panel_can_show_is_unneeded_is_a_candidate() -> None:
    volumes = frozenset({"scratch", "in-use", "panel-accessory-db-data", "nothing-such"})
    found = {item.key: item for item in candidates(DF, KEEP, cache_days=7, volumes=volumes,
                                                   now=NOW)}  # fmt: skip
    assert sorted(found) == [
        "cache:7d",
        "container:c0",
        "image:sha256:none",
        "image:sha256:old",
        "volume:scratch",
    ]
    assert found["image:sha256:old"].names == (f"{REPO}:v0", f"{REPO}:latest")
    assert found["image:sha256:none"].names == ("sha256:none",)
    assert found["cache:7d"].size == 300 and "7 days" in found["cache:7d"].why
    assert "no retained release" in found["container:c0"].why
    # Without volumes listed, none; an image kept by its digest alone stays.
    assert not any(k.startswith("volume:") for k in
                   (i.key for i in candidates(DF, KEEP, cache_days=7, volumes=frozenset(),
                                              now=NOW)))  # fmt: skip


def test_the_plan_removes_them_in_order_and_unforced() -> None:
    host = Host(1, "web-1")
    items = candidates(DF, KEEP, cache_days=7, volumes=frozenset({"scratch"}), now=NOW)
    steps = plan(host, items).phases[0].steps
    assert [step.argv for step in steps if isinstance(step, Run)] == [
        ("docker", "container", "rm", "--", "c0"),
        ("docker", "image", "rm", "--", f"{REPO}:v0", f"{REPO}:latest", "sha256:none"),
        ("docker", "builder", "prune", "--force", "--filter", "until=168h"),
        ("docker", "volume", "rm", "--", "scratch"),
    ]
    assert plan(host, []).phases == ()


def test_repositories_and_usage() -> None:
    assert repository("registry:5000/team/app:v1") == "registry:5000/team/app"
    assert repository("registry:5000/team/app@sha256:ab") == "registry:5000/team/app"
    assert repository("redis:7") == "redis" and repository("redis") == "redis"
    assert [(u.kind, u.count, u.size) for u in usage(DF)] == [
        ("images", 8, 5000),
        ("containers", 5, 66),
        ("volumes", 3, 1010),
        ("build cache", 3, 700),
    ]
