"""An empty secret is now stored as "" (nothing to encrypt), so the plan can tell whether one is
set without decrypting it; earlier rows held an encrypted empty string."""

from django.db import migrations

SECRET_FIELDS = ("registry_password", "git_token", "build_args")


def store_empty_secrets_empty(apps, schema_editor):
    App = apps.get_model("deployments", "App")
    for app in App.objects.all():
        empty = {}
        for name in SECRET_FIELDS:
            value = getattr(app, name)
            if value is not None and not (value.reveal() if hasattr(value, "reveal") else value):
                empty[name] = ""
        if empty:
            App.objects.filter(pk=app.pk).update(**empty)


class Migration(migrations.Migration):
    dependencies = [("deployments", "0009_switch_state_and_digest")]

    operations = [migrations.RunPython(store_empty_secrets_empty, migrations.RunPython.noop)]
