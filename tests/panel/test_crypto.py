from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from pytest_django.fixtures import Settings as SettingsWrapper

from panel.crypto import DecryptionError, KeyRing, key_ring
from panel.keyfiles import new_encryption_key_line
from panel.models import Secret
from panel.sensitive import Sensitive
from tests.conftest import Crew


def _raw(secret: Secret) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM panel_secret WHERE id = %s", [secret.pk.hex])
        row = cursor.fetchone()
    return str(row[0])


def _set_raw(secret: Secret, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE panel_secret SET value = %s WHERE id = %s", [value, secret.pk.hex])


def test_a_secret_round_trips_and_is_not_stored_in_clear(crew: Crew) -> None:
    secret = Secret.objects.create(team=crew.team, name="DB_PASSWORD", value="hunter2-ü")
    stored = _raw(secret)
    assert "hunter2" not in stored and stored.startswith("v1:")
    assert Secret.objects.get(pk=secret.pk).value.reveal() == "hunter2-ü"


def test_each_save_uses_a_fresh_nonce(crew: Crew) -> None:
    secret = Secret.objects.create(team=crew.team, name="A", value="same")
    first = _raw(secret)
    secret.save()
    assert _raw(secret) != first


def test_a_tampered_ciphertext_does_not_open(crew: Crew) -> None:
    secret = Secret.objects.create(team=crew.team, name="A", value="value")
    version, key_id, payload = _raw(secret).split(":")
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    _set_raw(secret, f"{version}:{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}")
    with pytest.raises(DecryptionError):
        Secret.objects.get(pk=secret.pk).value  # noqa: B018


def test_a_ciphertext_copied_to_another_row_does_not_open(crew: Crew) -> None:
    source = Secret.objects.create(team=crew.team, name="A", value="for A only")
    target = Secret.objects.create(team=crew.team, name="B", value="b")
    _set_raw(target, _raw(source))
    with pytest.raises(DecryptionError):
        Secret.objects.get(pk=target.pk).value  # noqa: B018


def test_a_row_moved_to_another_team_does_not_open(crew: Crew) -> None:
    secret = Secret.objects.create(team=crew.team, name="A", value="acme only")
    Secret.objects.filter(pk=secret.pk).update(team=crew.other_team)
    with pytest.raises(DecryptionError):
        Secret.objects.get(pk=secret.pk).value  # noqa: B018


def test_rotation_keeps_every_value_readable_under_the_new_key(
    crew: Crew, settings: SettingsWrapper
) -> None:
    values = {f"S{i}": f"value-{i}" for i in range(5)}
    for name, value in values.items():
        Secret.objects.create(team=crew.team, name=name, value=value)
    old_key_id = key_ring().current_id
    new_line = new_encryption_key_line()
    settings.PANEL_ENCRYPTION_KEYS = [new_line, *settings.PANEL_ENCRYPTION_KEYS]
    settings.PANEL_ENCRYPTION_KEY_FILE = None
    call_command("rotate_keys")
    new_id = new_line.partition(":")[0]
    for secret in Secret.objects.all():
        assert _raw(secret).split(":")[1] == new_id != old_key_id
        assert secret.value.reveal() == values[secret.name]
    # The old key can now leave the ring.
    with override_settings(PANEL_ENCRYPTION_KEYS=[new_line]):
        assert {s.name: s.value.reveal() for s in Secret.objects.all()} == values


def test_rotate_keys_new_key_writes_the_key_file(
    crew: Crew, settings: SettingsWrapper, tmp_path: Path
) -> None:
    key_file = tmp_path / "encryption_keys"
    key_file.write_text("\n".join(settings.PANEL_ENCRYPTION_KEYS) + "\n")
    key_file.chmod(0o600)
    settings.PANEL_ENCRYPTION_KEY_FILE = key_file
    Secret.objects.create(team=crew.team, name="A", value="kept")
    call_command("rotate_keys", "--new-key")
    lines = key_file.read_text().split()
    assert len(lines) == 2 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert _raw(Secret.objects.get()).split(":")[1] == lines[0].partition(":")[0]
    assert Secret.objects.get().value.reveal() == "kept"


def test_sensitive_prints_redacted_everywhere() -> None:
    secret = Sensitive("s3cr3t")
    assert str(secret) == repr(secret).replace("Sensitive(", "").rstrip(")") == "[REDACTED]"
    assert f"{secret}" == "[REDACTED]" and "s3cr3t" not in f"{[secret]}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "s3cr3t"


def test_a_key_ring_refuses_malformed_keys() -> None:
    from django.core.exceptions import ImproperlyConfigured

    for bad in (["nokey"], ["k1:" + base64.urlsafe_b64encode(b"short").decode()], []):
        with pytest.raises(ImproperlyConfigured):
            KeyRing.parse(bad)
