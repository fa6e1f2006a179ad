"""Docker cleanup on a server: what its disk holds (Docker's `/system/df`, read into a report)
and what may go. Only what the panel can show is not needed: stopped containers of the
panel's apps that no retained release names, images of the apps' repositories that no
retained release uses, untagged images, build cache unused for some days, and volumes only
when listed by name. Other software's images, containers and volumes are never candidates.
Pure: Docker's answer and the panel's knowledge in, the items and the plan out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from servers.docker_values import docker_time
from servers.plans import Host, Phase, Plan, Run

STOPPED = frozenset({"exited", "created", "dead"})
# The panel's own volumes (accessories' data, data kept from before an upgrade, the proxy's
# certificates) have removals of their own and are never cleanup's, even when listed.
OWN_VOLUMES = "panel-"
APP_LABEL = "panel.app"


@dataclass(frozen=True)
class Keep:
    """What the panel still needs on the server: image references (tags and digests) of the
    retained and deploying releases, the repositories the apps' images come from, and the
    containers by name (retained releases', accessories', the proxy)."""

    images: frozenset[str]
    repositories: frozenset[str]
    containers: frozenset[str]


@dataclass(frozen=True)
class Item:
    kind: str  # container, image, cache, volume
    id: str
    label: str
    size: int
    why: str
    names: tuple[str, ...] = ()  # an image's tags: removing them all removes it, unforced

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Usage:
    kind: str
    count: int
    size: int


def usage(df: dict[str, Any]) -> list[Usage]:
    """What each kind of thing takes: images (their layers once), containers (their writable
    layers), volumes, build cache."""
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []
    return [
        Usage("images", len(df.get("Images") or []), int(df.get("LayersSize") or 0)),
        Usage("containers", len(containers), sum(int(c.get("SizeRw") or 0) for c in containers)),
        Usage("volumes", len(volumes), sum(_volume_size(v) for v in volumes)),
        Usage("build cache", len(cache), int(df.get("BuilderSize") or 0)),
    ]


def candidates(
    df: dict[str, Any], keep: Keep, *, cache_days: int, volumes: frozenset[str], now: datetime
) -> list[Item]:
    """Everything cleanup would remove, each with why; nothing else is touched."""
    containers = [c for c in df.get("Containers") or [] if _removable_container(c, keep)]
    going = {c["Id"] for c in containers}
    # Images still used by a container that stays are kept whatever their name.
    used = {c.get("ImageID") for c in df.get("Containers") or [] if c["Id"] not in going}
    found = [
        Item("container", c["Id"], _name(c), int(c.get("SizeRw") or 0),
             f"a stopped container of {c['Labels'][APP_LABEL]} that no retained release names")
        for c in containers
    ]  # fmt: skip
    for image in df.get("Images") or []:
        if image["Id"] in used:
            continue
        why = _removable_image(image, keep)
        if why:
            tags = _tags(image)
            label = ", ".join(tags or _references(image)) or image["Id"][7:19]
            found.append(Item("image", image["Id"], label, int(image.get("Size") or 0), why,
                              tuple(tags) or (image["Id"],)))  # fmt: skip
    cutoff = now - timedelta(days=cache_days)
    old = [
        entry for entry in df.get("BuildCache") or []
        if not entry.get("InUse") and (docker_time(entry.get("LastUsedAt") or "") or now) < cutoff
    ]  # fmt: skip
    if old:
        size = sum(int(entry.get("Size") or 0) for entry in old)
        found.append(Item("cache", f"{cache_days}d", f"{len(old)} build cache entries", size,
                          f"unused for more than {cache_days} days"))  # fmt: skip
    for volume in df.get("Volumes") or []:
        name = volume["Name"]
        if name in volumes and not name.startswith(OWN_VOLUMES) and _volume_refs(volume) == 0:
            found.append(Item("volume", name, name, _volume_size(volume),
                              "listed by name, and no container uses it"))  # fmt: skip
    return found


def plan(host: Host, items: list[Item]) -> Plan:
    """The commands that remove the items: containers, then images by their names (never
    forced: Docker keeps an image a container still uses), then cache, then volumes."""
    by_kind: dict[str, list[Item]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    steps = []
    if "container" in by_kind:
        ids = [item.id for item in by_kind["container"]]
        steps.append(Run(host, ("docker", "container", "rm", "--", *ids),
                         title=f"{len(ids)} stopped containers"))  # fmt: skip
    if "image" in by_kind:
        names = [name for item in by_kind["image"] for name in item.names]
        steps.append(Run(host, ("docker", "image", "rm", "--", *names),
                         title=f"{len(by_kind['image'])} images"))  # fmt: skip
    for item in by_kind.get("cache", []):
        hours = int(item.id.rstrip("d")) * 24
        steps.append(Run(host, ("docker", "builder", "prune", "--force", "--filter",
                                f"until={hours}h"), title="build cache"))  # fmt: skip
    if "volume" in by_kind:
        names = [item.id for item in by_kind["volume"]]
        steps.append(Run(host, ("docker", "volume", "rm", "--", *names),
                         title=f"{len(names)} volumes"))  # fmt: skip
    return Plan((Phase(title="Clean up", lanes=(tuple(steps),)),) if steps else ())


def repository(reference: str) -> str:
    """`registry:5000/team/app:v1` or `…@sha256:…` → `registry:5000/team/app`."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _removable_container(container: dict[str, Any], keep: Keep) -> bool:
    labels = container.get("Labels") or {}
    return (
        APP_LABEL in labels
        and container.get("State") in STOPPED
        and _name(container) not in keep.containers
    )


def _removable_image(image: dict[str, Any], keep: Keep) -> str:
    references = _references(image)
    if any(reference in keep.images for reference in references):
        return ""
    if not _tags(image):
        return "untagged, and no container uses it"
    if all(repository(reference) in keep.repositories for reference in references):
        return f"an image of {repository(references[0])} that no retained release uses"
    return ""


def _tags(image: dict[str, Any]) -> list[str]:
    return [tag for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"]


def _references(image: dict[str, Any]) -> list[str]:
    digests = [d for d in image.get("RepoDigests") or [] if not d.startswith("<none>@")]
    return _tags(image) + digests


def _name(container: dict[str, Any]) -> str:
    return str((container.get("Names") or ["/"])[0]).lstrip("/")


def _volume_size(volume: dict[str, Any]) -> int:
    return max(0, int((volume.get("UsageData") or {}).get("Size") or 0))


def _volume_refs(volume: dict[str, Any]) -> int:
    return int((volume.get("UsageData") or {}).get("RefCount") or 0)
