"""What the panel still needs on a server, for Docker cleanup: the images of every release
that can still run there (retained, live or being deployed, by tag and by digest), the
repositories its apps' images come from, the containers of those releases, its accessories'
containers, and the proxy."""

from __future__ import annotations

from deployments.commands.accessories import container as accessory_container
from deployments.models import Accessory, App, Container, Release, ReleaseStatus
from servers.cleanup import Keep, repository
from servers.commands.proxy import CONTAINER as PROXY_CONTAINER
from servers.models import Server


def keep_on(server: Server) -> Keep:
    apps = App.objects.filter(roles__servers=server).distinct()
    releases: list[Release] = []
    for app in apps:
        releases += list(Release.objects.retained(app))
        releases += list(app.releases.filter(status=ReleaseStatus.PENDING))
    images = {ref for r in releases for ref in (r.image, r.image_digest) if ref}
    repositories = {repository(r.image) for app in apps for r in app.releases.all() if r.image}
    repositories |= {app.image for app in apps if app.image}
    containers = set(
        Container.objects.filter(release__in=releases, server=server).values_list("name", flat=True)
    )
    accessories = list(Accessory.objects.filter(server=server).values_list("name", flat=True))
    return Keep(
        images=frozenset(images),
        repositories=frozenset(repositories),
        containers=frozenset(
            {*containers, *(accessory_container(name) for name in accessories), PROXY_CONTAINER}
        ),
    )
