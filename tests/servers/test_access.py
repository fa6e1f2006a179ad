"""Team SSH access without a server: keys checked, the block written around what is there,
drift found; the pages' permissions, and a member's leaving taking their grants along."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncssh
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from panel import teams
from panel.models import AuditAction, AuditEvent, Job, JobKind
from servers.access import BEGIN, END, Entry, block, outside, parse_public_key, with_block
from servers.models import MemberKey, ServerAccess
from tests.conftest import Crew, new_server


def _public(kind: str = "ssh-ed25519", **options: Any) -> str:
    key = asyncssh.generate_private_key(kind, **options)
    return key.export_public_key().decode().strip()


def test_a_public_key_is_one_plain_line_of_a_kind_worth_having() -> None:
    text = _public()
    parsed = parse_public_key(f"  {text} me@laptop \n")
    assert parsed.line == " ".join(text.split()[:2]) and parsed.fingerprint.startswith("SHA256:")
    private = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    for bad in (f'command="rm -rf /" {text}', f"{text}\n{text}", "hello", private,
                _public("ssh-rsa", key_size=1024), "ssh-ed25519 AAAAnotbase64", ""):  # fmt: skip
        with pytest.raises(ValidationError):
            parse_public_key(bad)


def test_the_block_is_written_around_every_other_line() -> None:
    mine, theirs = _public(), _public()
    original = f"# laptop\n{theirs} old@laptop\n\nno-pty {mine} forced\n"
    entries = [
        Entry(" ".join(mine.split()[:2]), "dora"),
        Entry(" ".join(theirs.split()[:2]), "a b"),
    ]
    written = with_block(original, block(entries))
    assert written.startswith(original)  # untouched, in place
    assert written.splitlines()[-4:] == [BEGIN, *sorted(e.line() for e in entries), END]
    assert "panel:a_b" in written  # a name cannot break out of the comment
    again = with_block(written + "after\n", block(entries[:1]))
    assert again == original + "\n".join(block(entries[:1])) + "\nafter\n"
    assert with_block(again, []) == original + "after\n"  # no grants left: no block
    drift = outside(written, own_keys={" ".join(theirs.split()[:2])})
    assert [d.comment for d in drift] == ["forced"]  # the own key and the block's are not drift


def test_people_manage_their_own_keys_and_admins_grant_logins(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    client.force_login(crew.deployer)
    keys_url = reverse("member_keys")
    panel_key = server.ssh_key.public_key
    refused = client.post(keys_url, {"name": "stolen", "public_key": panel_key})
    assert "the panel itself logs in with" in refused.content.decode()
    assert (
        "not a key type"
        in client.post(keys_url, {"name": "x", "public_key": "rm"}).content.decode()
    )
    client.post(keys_url, {"name": "laptop", "public_key": _public()})
    key = MemberKey.objects.get(user=crew.deployer)
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_KEY_ADD, team=crew.team).exists()
    client.force_login(crew.viewer)
    assert client.post(reverse("member_key_delete", args=[key.pk])).status_code == 404

    access_url = reverse("server_access", args=[server.pk])
    assert 'id="grant-form"' not in client.get(access_url).content.decode()
    assert client.post(access_url, {"member": "dora", "login": "deploy"}).status_code == 403
    client.force_login(crew.admin)
    page = client.post(access_url, {"member": "oscar", "login": "deploy"}).content.decode()
    assert "Select a valid choice" in page  # not of this team
    assert (
        "lowercase letters"
        in client.post(access_url, {"member": "dora", "login": "r;m"}).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=False):
        client.post(access_url, {"member": "dora", "login": "deploy"})
    access = ServerAccess.objects.get()
    assert (access.user, access.login) == (crew.deployer, "deploy")
    assert Job.objects.filter(kind=JobKind.SERVER_ACCESS, target_id=str(server.pk)).count() == 1
    with django_capture_on_commit_callbacks(execute=False):
        teams.remove_member(crew.actor(crew.owner), crew.team, crew.deployer)
    assert not ServerAccess.objects.exists()
    assert Job.objects.filter(kind=JobKind.SERVER_ACCESS).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_REVOKE).exists()
