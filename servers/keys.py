"""SSH key material: generate, import, fingerprint. Private keys stay Sensitive."""

from __future__ import annotations

from dataclasses import dataclass

import asyncssh

from panel.sensitive import Sensitive


class InvalidKey(ValueError):
    """A key the user gave cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class KeyPair:
    public_key: str
    fingerprint: str
    private_key: Sensitive[str]


def generate() -> KeyPair:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return _pair(key)


def import_private(text: str, passphrase: str | None = None) -> KeyPair:
    """Read a private key (OpenSSH or PEM, optionally encrypted) and keep it unencrypted in
    memory; the database encrypts it at rest, so the passphrase is not needed again."""
    try:
        key = asyncssh.import_private_key(text.strip() + "\n", passphrase or None)
    except asyncssh.KeyEncryptionError as error:
        raise InvalidKey("The passphrase does not open this key.") from error
    except (asyncssh.KeyImportError, ValueError) as error:
        raise InvalidKey("This is not a private key in OpenSSH or PEM format.") from error
    return _pair(key)


def public_key_line(key_text: str) -> str:
    """Normalise a public key to `type base64` (no comment)."""
    algorithm, encoded = asyncssh.import_public_key(key_text).export_public_key().split()[:2]
    return f"{algorithm.decode()} {encoded.decode()}"


def fingerprint(public_key: str) -> str:
    return str(asyncssh.import_public_key(public_key).get_fingerprint("sha256"))


def same_fingerprint(expected: str, actual: str) -> bool:
    """Compare fingerprints the way people paste them: with or without `SHA256:`."""

    def bare(value: str) -> str:
        return value.strip().removeprefix("SHA256:").rstrip("=")

    return bool(expected.strip()) and bare(expected) == bare(actual)


def _pair(key: asyncssh.SSHKey) -> KeyPair:
    public = public_key_line(key.export_public_key("openssh").decode())
    private = key.export_private_key("openssh").decode()
    return KeyPair(
        public_key=public, fingerprint=fingerprint(public), private_key=Sensitive(private)
    )
