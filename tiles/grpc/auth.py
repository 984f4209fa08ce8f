"""Bearer tokens on the gRPC endpoint: verify signed tokens, never trust unsigned ones.

The original client sends ``authorization: Bearer <jwt>`` on TLS channels (and nothing
on plain-text ones); it only requires that its token be a JWT with a future ``exp``.
When the server has a token (``--token`` / ``$TILES_TOKEN``) a caller must present
either that token itself or a JWT signed with it (HS256, see :func:`make_token`) that
has not expired. Without a server token the endpoint must be on loopback (the start-up
code refuses otherwise); callers are then named after their token's unverified
``sub``, which only labels whose layers are whose on a single-user machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from typing import Any

from tiles.errors import AuthenticationError


class Unauthenticated(AuthenticationError):
    """The caller's credentials are missing or wrong; the message says what to do."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: str, subject: str = "tiles", days: float = 365.0) -> str:
    """A JWT signed with ``secret`` (HS256) that this server and the original client accept.

    Put it in ``DESCARTESLABS_TOKEN`` for a server started with ``--token secret``.
    """
    if not secret:
        raise ValueError("a signing secret is needed (the server's --token)")
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    payload = {"sub": subject, "iat": now, "exp": now + int(days * 86400)}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """(header, payload, signing input, signature) of a JWT; Unauthenticated if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("the bearer token is not a JWT (header.payload.signature)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        payload = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise Unauthenticated("the bearer token is not a readable JWT") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Unauthenticated("the bearer token is not a readable JWT")
    return header, payload, parts[0] + "." + parts[1], parts[2]


def bearer(metadata: Iterable[tuple[str, Any]]) -> str | None:
    """The bearer token in gRPC invocation metadata, if any."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else str(value)
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    return None


class TokenCheck:
    """Decides who a caller is from its metadata, or refuses it."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret or None

    def identify(self, metadata: Iterable[tuple[str, Any]]) -> str:
        """The caller's user name (``""`` when anonymous); Unauthenticated when refused."""
        token = bearer(metadata)
        if self.secret is None:
            return self._unverified_subject(token)
        if token is None:
            raise Unauthenticated(
                "this server requires a token: connect over TLS (the original client "
                "sends no credentials on a plain-text channel) with DESCARTESLABS_TOKEN "
                "set to a token from 'python -m tiles.grpc token'"
            )
        if hmac.compare_digest(token.encode(), self.secret.encode()):
            return "token"
        return self._verified_subject(token)

    @staticmethod
    def _unverified_subject(token: str | None) -> str:
        if not token:
            return ""
        try:
            _, payload, _, _ = _claims(token)
        except Unauthenticated:
            return ""
        sub = payload.get("sub")
        return sub if isinstance(sub, str) else ""

    def _verified_subject(self, token: str) -> str:
        header, payload, signing_input, signature = _claims(token)
        if header.get("alg") != "HS256":
            # Unsigned ("alg": "none") and foreign-key tokens prove nothing.
            raise Unauthenticated(
                f"the bearer token is signed with {header.get('alg')!r}; this server only "
                "accepts tokens signed with its key (HS256): make one with "
                "'python -m tiles.grpc token'"
            )
        expected = hmac.new(
            self.secret.encode(), signing_input.encode("ascii"), hashlib.sha256
        ).digest()
        try:
            given = _b64url_decode(signature)
        except ValueError:
            given = b""
        if not hmac.compare_digest(expected, given):
            raise Unauthenticated("the bearer token's signature does not match this server's key")
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            raise Unauthenticated("the bearer token has expired (or has no 'exp')")
        sub = payload.get("sub")
        return sub if isinstance(sub, str) and sub else "token"
