"""A runbook's steps as a person writes them, and where its HTTP steps may go."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from runbooks.reach import refused
from runbooks.starters import STARTERS
from runbooks.steps import Step, as_dicts, from_dicts, parse

EXAMPLE = """\
- check: Tell the team
  role: admin
- run: df -h /
  on: [web1, web2]
- http: post https://hooks.example.com/ops
  headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
  body: {"text": "window open"}
- wait: 30
- deploy: shop
  version: v2
- backup: db
  to: offsite
- upgrade: db
  image: postgres:17
- reboot: web1
  if_required: true
"""


def test_every_kind_of_step_is_read_and_kept_as_plain_values() -> None:
    steps = parse(EXAMPLE)
    assert [s.kind for s in steps] == ["check", "run", "http", "wait", "deploy", "backup",
                                       "upgrade", "reboot"]  # fmt: skip
    assert steps[0] == Step("check", text="Tell the team", role="admin")
    assert steps[1].servers == ("web1", "web2")
    assert steps[2].method == "POST" and steps[2].body == '{"text": "window open"}'
    assert steps[2].secrets() == {"HOOK_TOKEN"}
    assert (steps[4].option, steps[5].option, steps[6].option, steps[7].option) == (
        "v2",
        "offsite",
        "postgres:17",
        "if-required",
    )
    assert from_dicts(as_dicts(steps)) == steps
    assert steps[7].describe() == "Reboot web1 (if-required), and wait for its job"


@pytest.mark.parametrize(("text", "said"), [
    ("- reboot now", "each step is a mapping"),
    ("- format: disk", "unknown step"),
    ("- wait: 0", "wait is a number"),
    ("- wait: 'soon'", "wait is a number"),
    ("- run: uptime", "say on which servers"),
    ("- run: uptime\n  on: ['$(reboot)']", "not a name"),
    ("- http: GRAB https://x.example", "write the method and the URL"),
    ("- http: GET https://x.example\n  headers: {'Bad Header': x}", "not a header name"),
    ("- deploy: shop\n  version: 'v1;reboot'", "the version is an image tag"),
    ("- upgrade: db", "say which image"),
    ("- check: ok\n  role: root", "role is deployer or admin"),
    ("- wait: 5\n  on: [web1]", "wait takes no on"),
    ("- check: ''", "1 to 500 characters"),
])  # fmt: skip
def test_a_bad_step_is_named_with_its_number(text: str, said: str) -> None:
    with pytest.raises(ValidationError) as refusal:
        parse(f"- wait: 1\n{text}")
    assert "Step 2" in str(refusal.value) and said in str(refusal.value)


@pytest.mark.parametrize("text", ["", "just words", "{a: 1}", "- [", "!!python/object:os.system x"])
def test_what_is_not_a_list_of_steps_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse(text)


def test_the_starters_are_valid_runbooks() -> None:
    for _, steps in STARTERS.values():
        assert parse(steps)


@pytest.mark.parametrize(("url", "said"), [
    ("http://127.0.0.1:8080/", "the panel's own machine"),
    ("http://[::1]/", "the panel's own machine"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://0.0.0.0/", "the panel's own machine"),
    ("ftp://files.example.com/", "http:// or https://"),
    ("https://user:pw@10.0.0.5/", "never in the URL"),
    ("http://10.0.0.5:99999/", "port"),
    ("http://no-such-host.invalid/", "does not resolve"),
])  # fmt: skip
def test_http_steps_may_not_reach_the_panel_or_metadata(url: str, said: str) -> None:
    assert said in refused(url, allow_internal=False)


def test_an_admin_may_allow_internal_addresses_and_servers_are_always_fine() -> None:
    assert refused("http://127.0.0.1:8080/", allow_internal=True) == ""
    assert refused("http://10.0.0.5:8080/hook", allow_internal=False) == ""
