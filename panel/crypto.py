"""AES-GCM encryption of secret values at rest, with a key ring for rotation.

A ciphertext is `v1:<key id>:<base64(nonce || ciphertext+tag)>`. The associated data binds it
to one model, field, row and team, so a value copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
FORMAT_VERSION = "v1"


class DecryptionError(Exception):
    """The value was tampered with, belongs to another row, or its key is not in the ring."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, entries: list[str]) -> KeyRing:
        """Parse `id:base64key` entries; the first is the current key, the rest decrypt only."""
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep or not key_id.isalnum():
                raise ImproperlyConfigured("An encryption key must look like `id:base64key`.")
            try:
                key = base64.urlsafe_b64decode(encoded)
            except (binascii.Error, ValueError) as error:
                raise ImproperlyConfigured(f"Encryption key {key_id} is not base64.") from error
            if len(key) != 32:
                raise ImproperlyConfigured(f"Encryption key {key_id} must be 32 bytes.")
            keys[key_id] = key
        if not keys:
            raise ImproperlyConfigured("No encryption key is configured.")
        return cls(current_id=entries[0].partition(":")[0].strip(), keys=keys)

    def encrypt(self, plaintext: str, associated_data: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(
            nonce, plaintext.encode(), associated_data.encode()
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{FORMAT_VERSION}:{self.current_id}:{payload}"

    def decrypt(self, ciphertext: str, associated_data: str) -> str:
        version, _, rest = ciphertext.partition(":")
        key_id, _, payload = rest.partition(":")
        if version != FORMAT_VERSION or key_id not in self.keys:
            raise DecryptionError("Unknown format or key id.")
        try:
            raw = base64.urlsafe_b64decode(payload)
            opened = AESGCM(self.keys[key_id]).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data.encode()
            )
        except (InvalidTag, binascii.Error, ValueError) as error:
            raise DecryptionError("The value does not decrypt for this row.") from error
        return opened.decode()

    def key_id_of(self, ciphertext: str) -> str:
        return ciphertext.split(":", 2)[1]


@cache
def _ring_for(entries: tuple[str, ...]) -> KeyRing:
    return KeyRing.parse(list(entries))


def key_ring() -> KeyRing:
    return _ring_for(tuple(settings.PANEL_ENCRYPTION_KEYS))
