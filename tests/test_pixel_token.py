"""Signed pixel tokens: only our keys make tokens that verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit.errors import RequestError
from mdnkit.pixel._token import TOKEN_LENGTH, Signer, _Mac, key_id

NEW = b"N" * 16 + b"-new-signing-key"
OLD = b"O" * 16 + b"-old-signing-key"
FOREIGN = b"F" * 16 + b"-someone-elses!!"
ALPHABET = string.ascii_letters + string.digits + "-_"


def test_token_shape_and_contents() -> None:
    token, token_id = Signer([NEW]).new()
    assert len(token) == TOKEN_LENGTH == 48
    assert set(token) <= set(ALPHABET)
    raw = base64.urlsafe_b64decode(token)
    assert raw[:4] == key_id(NEW) == hashlib.sha256(b"mdnkit pixel key id\x00" + NEW).digest()[:4]
    assert raw[4:20].hex() == token_id
    expected_mac = hmac.new(NEW, raw[:20], hashlib.sha256).digest()[:16]
    assert raw[20:] == expected_mac


def test_tokens_are_fresh_and_verify() -> None:
    signer = Signer([NEW])
    pairs = [signer.new() for _ in range(200)]
    assert len({token for token, _ in pairs}) == 200
    assert len({token_id for _, token_id in pairs}) == 200
    for token, token_id in pairs:
        assert signer.verify(token) == token_id


def test_rotation_first_key_signs_every_key_verifies() -> None:
    old_token, old_id = Signer([OLD]).new()
    rotated = Signer([NEW, OLD])
    new_token, new_id = rotated.new()
    assert base64.urlsafe_b64decode(new_token)[:4] == key_id(NEW)
    assert rotated.verify(old_token) == old_id
    assert rotated.verify(new_token) == new_id
    # The old key removed: its tokens no longer verify (replay after retirement).
    assert Signer([NEW]).verify(old_token) is None
    assert Signer([NEW]).verify(new_token) == new_id


def test_foreign_key_is_refused() -> None:
    token, _ = Signer([FOREIGN]).new()
    assert Signer([NEW, OLD]).verify(token) is None


def test_forged_token_with_our_key_id_is_refused() -> None:
    # Someone who knows the key id (it is in every URL) but not the key.
    head = key_id(NEW) + bytes(16)
    forged = base64.urlsafe_b64encode(head + bytes(16)).decode()
    assert Signer([NEW]).verify(forged) is None
    guessed_mac = hmac.new(FOREIGN, head, hashlib.sha256).digest()[:16]
    assert Signer([NEW]).verify(base64.urlsafe_b64encode(head + guessed_mac).decode()) is None


def test_tampering_with_any_character_is_detected() -> None:
    signer = Signer([NEW, OLD])
    token, _ = signer.new()
    for index, original in enumerate(token):
        for replacement in ALPHABET:
            if replacement == original:
                continue
            tampered = token[:index] + replacement + token[index + 1 :]
            assert signer.verify(tampered) is None, (index, replacement)


def test_tampering_with_any_bit_is_detected() -> None:
    signer = Signer([NEW])
    token, _ = signer.new()
    raw = base64.urlsafe_b64decode(token)
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert signer.verify(base64.urlsafe_b64encode(bytes(flipped)).decode()) is None, bit


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: t[:-1],  # truncated by one
        lambda t: t[:24],  # truncated by half
        lambda t: "",
        lambda t: t + "A",  # extended
        lambda t: t + "==",  # padded
        lambda t: t.replace("-", "+").replace("_", "/"),  # standard alphabet
        lambda t: t[:-1] + "=",
        lambda t: " " + t[1:],
        lambda t: t.upper() if t.upper() != t else t.lower(),
        lambda t: "é" + t[1:],
    ],
)
def test_malformed_tokens_are_refused(transform: object) -> None:
    signer = Signer([NEW])
    token, _ = signer.new()
    while "-" not in token and "_" not in token:  # make the alphabet case meaningful
        token, _ = signer.new()
    assert callable(transform)
    assert signer.verify(transform(token)) is None


@given(st.text(max_size=200))
def test_any_string_verifies_or_not_never_raises(text: str) -> None:
    assert Signer([NEW]).verify(text) is None


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "at least one key is needed to sign pixel tokens"),
        (NEW, "keys must be a list of keys, newest first, not a single key"),
        ("secret" * 5, "keys must be a list of keys, newest first, not a single key"),
        (["a string key of some length"], "key 0 must be bytes, not str"),
        (
            [NEW, b"short"],
            "key 1 is 5 bytes long; a key needs at least 16 random bytes (secrets.token_bytes(32))",
        ),
    ],
)
def test_bad_keys(keys: object, message: str) -> None:
    with pytest.raises(RequestError) as info:
        Signer(keys)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_bytearray_keys_and_duplicates_are_accepted() -> None:
    signer = Signer([bytearray(NEW), NEW])
    token, token_id = signer.new()
    assert Signer([NEW]).verify(token) == token_id


@pytest.mark.parametrize("length", [16, 32, 63, 64, 65, 200])
@given(message=st.binary(max_size=100))
def test_precomputed_mac_is_hmac_sha256(length: int, message: bytes) -> None:
    key = bytes(range(256))[:length] if length <= 256 else b"k" * length
    assert _Mac(key).tag(message) == hmac.new(key, message, hashlib.sha256).digest()[:16]
