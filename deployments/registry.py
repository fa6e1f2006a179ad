"""Whether an image tag exists, asked of its registry (the Docker Registry HTTP API v2) before
a deploy is queued, so a typo is refused with a sentence instead of failing on the servers."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from deployments.commands import containers

DOCKER_HUB = "registry-1.docker.io"
TIMEOUT = 5.0
MANIFESTS = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"


def reference(image: str, tag: str) -> Reference:
    registry = containers.registry_of(image)
    repository = image.split("/", 1)[1] if registry else image
    if not registry and "/" not in repository:
        repository = f"library/{repository}"
    return Reference(registry or DOCKER_HUB, repository, tag)


def tag_exists(image: str, tag: str, username: str = "", password: str = "") -> bool | None:
    """True or False as the registry answers; None when it cannot be asked (unreachable, an
    unknown way of signing in): the deploy then finds out on the servers."""
    ref = reference(image, tag)
    scheme = "http" if ref.registry in settings.PANEL_INSECURE_REGISTRIES else "https"
    url = f"{scheme}://{ref.registry}/v2/{ref.repository}/manifests/{urllib.parse.quote(tag)}"
    try:
        status, challenge = _head(url, {})
        if status == 401 and challenge.lower().startswith("basic") and username:
            status, _ = _head(url, {"Authorization": _basic(username, password)})
        elif status == 401 and challenge.lower().startswith("bearer"):
            token = _token(challenge, username, password)
            if token:
                status, _ = _head(url, {"Authorization": f"Bearer {token}"})
    except (OSError, ValueError):
        return None
    if status == 200:
        return True
    if status == 404:
        return False
    return None


def _head(url: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 (http or https, chosen above)
        url, method="HEAD", headers={"Accept": MANIFESTS, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            return int(answer.status), ""
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("WWW-Authenticate", "")


def _token(challenge: str, username: str, password: str) -> str:
    fields = dict(CHALLENGE.findall(challenge))
    realm = fields.pop("realm", "")
    if not realm.startswith("https://"):
        return ""
    query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
    headers = {"Authorization": _basic(username, password)} if username else {}
    request = urllib.request.Request(f"{realm}?{query}", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
        document = json.loads(answer.read(65536))
    return str(document.get("token") or document.get("access_token") or "")


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
