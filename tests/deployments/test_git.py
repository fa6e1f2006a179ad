from __future__ import annotations

from deployments import git
from servers import keys


def test_host_key_fingerprints_read_plain_and_hashed_known_hosts_lines() -> None:
    public = keys.generate().public_key
    known_hosts = (
        f"github.com {public}\n|1|c2FsdA==|aGFzaA== {public}\n\n# a comment line\nnot a key line\n"
    )
    assert git.host_key_fingerprints(known_hosts) == [keys.fingerprint(public)] * 2
    assert git.host_key_fingerprints("") == []
