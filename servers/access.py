"""Team SSH access, pure: members' public keys checked and normalised, and the panel's
marked block in an `authorized_keys` file: written between two marker lines, every line
outside it kept exactly as it was, and the keys found outside it reported (drift)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncssh
from django.core.exceptions import ValidationError

BEGIN = "# BEGIN keys managed by the panel (changes inside this block are overwritten)"
END = "# END keys managed by the panel"
ALGORITHMS = frozenset({
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
})  # fmt: skip
MIN_RSA_BITS = 2048
MAX_KEY_CHARS = 16_000
COMMENT_RE = re.compile(r"[^A-Za-z0-9@._+-]")


@dataclass(frozen=True)
class PublicKey:
    line: str  # `type base64`, no options, no comment
    fingerprint: str


@dataclass(frozen=True)
class Entry:
    """One key in the block, with the member it belongs to as its comment."""

    key: str
    member: str

    def line(self) -> str:
        return f"{self.key} panel:{COMMENT_RE.sub('_', self.member)}"


@dataclass(frozen=True)
class Outside:
    fingerprint: str
    comment: str


def parse_public_key(text: str) -> PublicKey:
    """One OpenSSH public key line (`type base64 [comment]`); anything else is refused,
    options (`command=…`) included: the block grants a login and nothing more."""
    text = text.strip()
    if not text or len(text) > MAX_KEY_CHARS or "\n" in text or "\r" in text:
        raise ValidationError("Paste one public key on one line (the .pub file's content).")
    algorithm = text.split()[0]
    if algorithm not in ALGORITHMS:
        raise ValidationError(
            f"{algorithm[:40]!r} is not a key type the panel accepts "
            "(ssh-ed25519, ecdsa, sk- keys, or RSA of 2048 bits or more)."
        )
    try:
        key = asyncssh.import_public_key(" ".join(text.split()[:2]))
    except (asyncssh.KeyImportError, ValueError) as error:
        raise ValidationError("This is not a valid public key.") from error
    if algorithm == "ssh-rsa" and getattr(key.pyca_key, "key_size", 0) < MIN_RSA_BITS:
        raise ValidationError(f"RSA keys need at least {MIN_RSA_BITS} bits.")
    kind, encoded = key.export_public_key().decode().split()[:2]
    return PublicKey(f"{kind} {encoded}", str(key.get_fingerprint("sha256")))


def block(entries: list[Entry]) -> list[str]:
    """The block's lines, or none at all when no key is granted."""
    if not entries:
        return []
    return [BEGIN, *sorted({entry.line() for entry in entries}), END]


def with_block(text: str, lines: list[str]) -> str:
    """The file with the panel's block replaced by `lines` (or appended); every line outside
    the block kept as it was, in its place."""
    before, after, _ = _split(text)
    kept = before + lines + after
    return "\n".join(kept) + "\n" if kept else ""


def inside(text: str) -> list[str]:
    return _split(text)[2]


def outside(text: str, own_keys: set[str]) -> list[Outside]:
    """Keys in the file outside the block, the panel's own login keys left out."""
    before, after, _ = _split(text)
    found = []
    for line in before + after:
        key = _key_of(line)
        if key is not None and key.line not in own_keys:
            comment = line.split(key.line.split()[1], 1)[-1].strip()
            found.append(Outside(key.fingerprint, comment[:100]))
    return found


def _split(text: str) -> tuple[list[str], list[str], list[str]]:
    """(lines before the block, lines after it, the block's own lines)."""
    lines = text.splitlines()
    if BEGIN in lines:
        start = lines.index(BEGIN)
        end = lines.index(END, start) if END in lines[start:] else len(lines) - 1
        return lines[:start], lines[end + 1 :], lines[start + 1 : end]
    return lines, [], []


def _key_of(line: str) -> PublicKey | None:
    """The key of an `authorized_keys` line, options or not; None for comments and blanks."""
    words = line.split()
    for index, word in enumerate(words[:-1]):
        if word in ALGORITHMS:
            try:
                return parse_public_key(f"{word} {words[index + 1]}")
            except ValidationError:
                return None
    return None
