"""The server secret (POLL_BOT_SECRET) and the signed, expiring links made with it."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

EXPORT_SECONDS = 24 * 3600  # how long an export link works


class UnusableSecret(Exception):
    """The secret file is there but holds no secret: the bot must not sign or hash with an empty key."""


def server_secret(configured: str, folder: Path) -> bytes:
    """POLL_BOT_SECRET, or the one generated into the data folder on first start (kept there, 0600).
    Several instances must share one: set POLL_BOT_SECRET for them all."""
    if configured:
        return configured.encode()
    path = folder / "secret"
    folder.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _generate_secret(path)
    value = path.read_bytes().strip()
    if not value:
        raise UnusableSecret(f"the secret file {path} is empty: set POLL_BOT_SECRET, "
                             "or delete the file so that a new secret is generated")
    return value


def _generate_secret(path: Path) -> None:
    """Written whole under a temporary name, then linked into place: an instance starting at the
    same moment finds either no file or the complete secret, never a half-written one."""
    descriptor, temporary = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_urlsafe(32).encode())
            file.flush()
            os.fsync(file.fileno())  # a crash after the link must not leave an empty secret
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another instance was first: its secret is the one
    finally:
        os.unlink(temporary)


@dataclass(frozen=True)
class ExportLinks:
    """Links to a poll's results as CSV, `<public url>/export/<token>`: the token names the poll
    and its expiry, signed with the server secret (HMAC-SHA-256)."""
    secret: bytes
    public_url: str

    def link(self, poll_id: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + EXPORT_SECONDS)
        payload = f"{poll_id}.{expires}"
        return f"{self.public_url.rstrip('/')}/export/{payload}.{self._signature(payload)}"

    def poll_of(self, token: str, now: float | None = None) -> int | None:
        """The poll a token is for, if it is genuine and has not expired."""
        if not token.isascii():  # compare_digest refuses other text, and isdigit() takes other digits
            return None
        poll, _, rest = token.partition(".")
        expires, _, signature = rest.partition(".")
        if not (poll.isdigit() and expires.isdigit() and len(poll) < 19 and len(expires) < 19):
            return None
        if not hmac.compare_digest(signature, self._signature(f"{poll}.{expires}")):
            return None
        return int(poll) if int(expires) > (time.time() if now is None else now) else None

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self.secret, b"export:" + payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Pseudonyms:
    """What the store keeps instead of a person's id where the id must not be kept: keyed hashes
    (HMAC-SHA-256 with the server secret) that only this bot can compute from the id again.
    A voter in an anonymous poll is a hash of their id and the poll, so one person still has one
    vote and can move it, yet their votes in two polls do not match (none of them can be traced
    to another poll where they are named). Whom an anonymous poll reminded to vote is a hash of
    another kind, so it never equals their vote's (the reminder message itself goes to them by
    name). A recent press is a hash of the presser and the button."""
    secret: bytes

    def voter(self, poll_id: int, user_id: str) -> str:
        return self._hash(f"voter\0{poll_id}\0{user_id}")

    def reminded(self, poll_id: int, user_id: str) -> str:
        return self._hash(f"reminded\0{poll_id}\0{user_id}")

    def press(self, user_id: str, press: str) -> str:
        return self._hash(f"press\0{user_id}\0{press}")

    def _hash(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()
