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
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104's B)
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
        self._keys: dict[bytes, _Mac] = {}
        seen: dict[bytes, bytes] = {}
        for key in checked:
            kid = key_id(key)
            if kid in seen and seen[kid] != key:
                raise RequestError("two keys share a key id; generate a fresh key")
            if kid not in seen:
                seen[kid] = key
                self._keys[kid] = _Mac(key)
        self._signing = key_id(checked[0])
        # Unknown key ids are checked against this, so that a foreign key
        # costs the same work as ours and the timing says nothing.
        self._dummy = _Mac(secrets.token_bytes(32))

    def new(self) -> tuple[str, str]:
        """A fresh ``(token, token_id)``: the token goes in the URL, the id to the tracker."""
        raw_id = secrets.token_bytes(_TOKEN_ID_BYTES)
        head = self._signing + raw_id
        tag = self._keys[self._signing].tag(head)
        token = base64.urlsafe_b64encode(head + tag).decode("ascii")
        return token, raw_id.hex()

    def verify(self, token: str) -> str | None:
        """The token id of a genuine *token*, None for anything else."""
        if len(token) != TOKEN_LENGTH or not _TOKEN_SHAPE.match(token):
            return None
        # 48 characters of the URL-safe alphabet always decode (36 bytes, no
        # padding bits), and only one string decodes to given bytes.
        raw = binascii.a2b_base64(token.replace("-", "+").replace("_", "/"))
        head, tag = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        mac = self._keys.get(head[:_KEY_ID_BYTES], self._dummy)
        genuine = hmac.compare_digest(mac.tag(head), tag)
        if not genuine or mac is self._dummy:
            return None
        return head[_KEY_ID_BYTES:].hex()


class _Mac:
    """HMAC-SHA256 with one key, truncated to the tag length (RFC 2104).

    The inner and outer hash states after the padded key are computed once
    and copied per tag: the same value as ``hmac.digest(key, msg,
    "sha256")``, in a third of the time, which the endpoint spends on every
    request with a well-formed token.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:  # RFC 2104 §2: a long key is hashed first
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def tag(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:_MAC_BYTES]
