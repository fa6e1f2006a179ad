"""Before a deploy is queued the lab's real registry is asked whether the tag exists."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from deployments import registry, services
from deployments.models import App, Release
from panel.models import Job
from servers.models import Server
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp
from tests.deployments.test_api import _token
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asks_the_registry(settings: SettingsWrapper, lab: Lab) -> None:
    settings.PANEL_CHECK_TAGS = True
    settings.PANEL_INSECURE_REGISTRIES = [lab.registry]


def test_the_registry_says_which_tags_exist(lab: Lab, asks_the_registry: None) -> None:
    image = lab.app_images["v1"].rsplit(":", 1)[0]
    user, password = lab.registry_user, lab.registry_password
    assert registry.tag_exists(image, "v1", user, password) is True
    assert registry.tag_exists(image, "v9", user, password) is False
    assert registry.tag_exists(image, "v1", user, "wrong") is None  # cannot tell: no refusal


def test_a_missing_tag_is_refused_before_anything_is_queued(
    crew: Crew,
    client: Client,
    lab: Lab,
    asks_the_registry: None,
    web_servers: list[Server],
    make_app: MakeApp,
) -> None:
    app = make_app("tagged", web_servers[:1])
    with pytest.raises(
        services.DeployRefused, match=r"Tag v9 is not in 10\.213\.7\.1:5000/lab/app"
    ):
        services.start_deploy(crew.actor(crew.deployer), app, version="v9")
    secret = _token(crew.deployer, "deploy")
    answer = client.post(
        f"/api/v1/apps/{app.name}/deploy",
        json.dumps({"tag": "v9"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert answer.status_code == 409 and "Tag v9 is not in" in answer.json()["error"]
    assert not Job.objects.filter(target_id=str(app.pk)).exists()
    assert not Release.objects.filter(app=app).exists()
    assert services.start_deploy(
        crew.actor(crew.deployer), App.objects.get(pk=app.pk), version="v2"
    )
