"""Whether an app's registry password is set is known without decrypting it, also for rows
saved before empty secrets were stored empty."""

from __future__ import annotations

import importlib

from django.apps import apps

from deployments.models import App
from panel.crypto import key_ring
from panel.fields import is_set
from tests.conftest import Crew

MIGRATION = importlib.import_module("deployments.migrations.0010_empty_secrets_stored_empty")


def test_an_empty_password_is_not_set_and_a_real_one_is(crew: Crew) -> None:
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    app.registry_password = ""
    app.save()
    assert not is_set(App.objects.get(pk=app.pk), "registry_password")
    app.registry_password = "hunter2"
    app.save()
    loaded = App.objects.get(pk=app.pk)
    assert is_set(loaded, "registry_password") and "registry_password" in loaded.__dict__
    assert loaded.registry_password.reveal() == "hunter2"


def test_rows_with_an_encrypted_empty_password_are_stored_empty(crew: Crew) -> None:
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    field = App._meta.get_field("registry_password")
    old_style = key_ring().encrypt("", field.associated_data(app))
    App.objects.filter(pk=app.pk).update(registry_password=old_style)
    assert is_set(App.objects.get(pk=app.pk), "registry_password")
    MIGRATION.store_empty_secrets_empty(apps, None)
    assert not is_set(App.objects.get(pk=app.pk), "registry_password")
