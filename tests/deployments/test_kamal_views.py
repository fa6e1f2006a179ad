"""The import pages: paste, review, fill in the secrets, create; and the export page."""

from __future__ import annotations

from pathlib import Path

from django.test import Client
from django.urls import reverse

from deployments.models import Accessory, App
from tests.conftest import Crew, new_server

CORPUS = Path(__file__).parent / "kamal_corpus"


def test_paste_review_fill_in_and_create(crew: Crew, client: Client) -> None:
    new_server(crew, name="web-1", host="192.0.2.40")
    client.force_login(crew.admin)
    deploy = (CORPUS / "accessories.yml").read_text()
    review = client.post(reverse("kamal_import"), {"deploy": deploy, "destination": ""})
    page = review.content.decode()
    assert review.status_code == 200
    for section in ("review-mapped", "review-different", "review-unsupported", "review-secrets"):
        assert f'id="{section}"' in page
    assert "accessories.db.directories" in page and "MEILI_MASTER_KEY" in page
    assert not App.objects.exists()

    key = crew.team.ssh_keys.get()
    # The pasted file stays on the server between the pages: the form does not send it again.
    assert "acme/app" not in page.split('id="kamal-create"')[1]
    data = {"create": "", "ssh_key": str(key.pk), "dotenv": "KAMAL_REGISTRY_PASSWORD=hunter2\n"}
    missing = client.post(reverse("kamal_import"), data).content.decode()
    assert "Fill in MEILI_MASTER_KEY" in missing and not App.objects.exists()
    assert "hunter2" not in missing

    # The registry password pasted before is kept too; only the missing secret is typed.
    created = client.post(reverse("kamal_import"), {"create": "", "ssh_key": str(key.pk),
                                                    "secret_MEILI_MASTER_KEY": "m3"})  # fmt: skip
    app = App.objects.get(name="app")
    assert created["Location"] == reverse("app_detail", args=[app.pk])
    assert Accessory.objects.filter(imported_with=app).count() == 4
    assert app.registry_password.reveal() == "hunter2"


def test_a_file_kamal_rejects_is_shown_with_its_line(crew: Crew, client: Client) -> None:
    client.force_login(crew.admin)
    page = client.post(
        reverse("kamal_import"), {"deploy": "service: a\nimage: b\nservers: 5\n"}
    ).content.decode()
    assert "servers are a list" in page and "line 3" in page


def test_only_admins_import(crew: Crew, client: Client) -> None:
    client.force_login(crew.deployer)
    assert client.get(reverse("kamal_import")).status_code == 403


def test_the_export_page_and_its_downloads(crew: Crew, client: Client) -> None:
    new_server(crew)
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop",
                             registry_username="ci")  # fmt: skip
    client.force_login(crew.admin)
    page = client.get(reverse("kamal_export", args=[app.pk])).content.decode()
    assert "service: shop" in page and "KAMAL_REGISTRY_PASSWORD" in page
    download = client.get(reverse("kamal_export", args=[app.pk]) + "?download=deploy")
    assert download["Content-Disposition"] == 'attachment; filename="deploy.yml"'
    client.force_login(crew.viewer)
    assert client.get(reverse("kamal_export", args=[app.pk])).status_code == 403
