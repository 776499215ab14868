"""Signed, opaque pixel tokens.

A token says nothing about the message or the recipient it stands for, not
even encrypted: it is a random token id that the tracker maps back to the
(Message-ID, recipient) pair, plus a MAC that lets the endpoint throw away
forged or tampered tokens before touching the store.

Layout (36 bytes, 48 characters of URL-safe base64, no padding)::

    key-id (4) | token-id (16) | HMAC-SHA256(key, key-id | token-id)[:16]

- The key id is derived from the key itself, so rotating keys needs no
  other configuration: the first key signs, every key verifies, and a
  token names the key that signed it.
- 128 random bits of token id (:mod:`secrets`) make tokens unguessable
  and unlinkable; the MAC is truncated to 128 bits, the floor NIST
  SP 800-107 §5.3.4 sets for HMAC tags used against forgery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from ..errors import RequestError

__all__ = ["TOKEN_LENGTH", "Signer", "key_id"]

_KEY_ID_BYTES = 4
_TOKEN_ID_BYTES = 16
_MAC_BYTES = 16
_RAW_BYTES = _KEY_ID_BYTES + _TOKEN_ID_BYTES + _MAC_BYTES
# 36 bytes is a multiple of 3: base64 without padding, exactly 48 characters.
TOKEN_LENGTH = _RAW_BYTES * 4 // 3
MIN_KEY_BYTES = 16
_TOKEN_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}\Z")
# What base64.urlsafe_b64decode does, without its per-call checks.
_FROM_URLSAFE = str.maketrans("-_", "+/")
# Separates key-id derivation from any other use of the same key material.
_KEY_ID_CONTEXT = b"mdnkit pixel key id\x00"


def key_id(key: bytes) -> bytes:
    """The 4-byte id a token carries to name the key that signed it."""
    return hashlib.sha256(_KEY_ID_CONTEXT + key).digest()[:_KEY_ID_BYTES]


class Signer:
    """Makes tokens with the first key and verifies them with any key."""

    __slots__ = ("_dummy", "_keys", "_signing")

    def __init__(self, keys: Iterable[bytes]) -> None:
        given: object = keys
        if isinstance(given, (bytes, bytearray, str)):
            raise RequestError("keys must be a list of keys, newest first, not a single key")
        checked: list[bytes] = []
        for index, key in enumerate(keys):
            if not isinstance(key, (bytes, bytearray)):
                raise RequestError(f"key {index} must be bytes, not {type(key).__name__}")
            if len(key) < MIN_KEY_BYTES:
                raise RequestError(
                    f"key {index} is {len(key)} bytes long; a key needs at least "
                    f"{MIN_KEY_BYTES} random bytes (secrets.token_bytes(32))"
                )
            checked.append(bytes(key))
        if not checked:
            raise RequestError("at least one key is needed to sign pixel tokens")
        self._keys: dict[bytes, bytes] = {}
        for key in checked:
            kid = key_id(key)
            if kid in self._keys and self._keys[kid] != key:
                raise RequestError("two keys share a key id; generate a fresh key")
            self._keys.setdefault(kid, key)
        self._signing = checked[0]
        # Unknown key ids are checked against this, so that a foreign key
        # costs the same work as ours and the timing says nothing.
        self._dummy = secrets.token_bytes(32)

    def new(self) -> tuple[str, str]:
        """A fresh ``(token, token_id)``: the token goes in the URL, the id to the tracker."""
        raw_id = secrets.token_bytes(_TOKEN_ID_BYTES)
        head = key_id(self._signing) + raw_id
        token = base64.urlsafe_b64encode(head + _mac(self._signing, head)).decode("ascii")
        return token, raw_id.hex()

    def verify(self, token: str) -> str | None:
        """The token id of a genuine *token*, None for anything else."""
        if len(token) != TOKEN_LENGTH or not _TOKEN_SHAPE.match(token):
            return None
        # 48 characters of the URL-safe alphabet always decode (36 bytes, no
        # padding bits), and only one string decodes to given bytes.
        raw = binascii.a2b_base64(token.translate(_FROM_URLSAFE))
        head, tag = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        key = self._keys.get(head[:_KEY_ID_BYTES], self._dummy)
        genuine = hmac.compare_digest(_mac(key, head), tag)
        if not genuine or key is self._dummy:
            return None
        return head[_KEY_ID_BYTES:].hex()


def _mac(key: bytes, head: bytes) -> bytes:
    # hmac.digest: the one-shot form, computed in C (OpenSSL) without the
    # Python-level HMAC object hmac.new builds.
    return hmac.digest(key, head, "sha256")[:_MAC_BYTES]
