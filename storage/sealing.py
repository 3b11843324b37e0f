"""Sealed values: what the database keeps but only a holder of ``BALLOT_KEY`` can read.

A secret ballot is stored sealed in its voter's own turnout row (storage/polls.py), and
the reply recorded for a repeated delivery of an inbound message (storage/inbound.py) is
sealed too, since a ballot's receipt names the choice. Sealing is AES-256-GCM under a key
derived from ``BALLOT_KEY`` with HKDF and a purpose label (one key per purpose), a fresh
random nonce each time, and *associated data* naming the row the value belongs to, so
that a sealed value copied into another row does not open. Plaintexts are padded to a
whole number of blocks of :data:`PAD` bytes: the length of a sealed value does not tell
a short option label from a long one, nor one chosen option from three.

Whoever has the database (file, WAL, dump) but not ``BALLOT_KEY`` sees only random-looking
text of equal lengths; the order, time or transaction id of a row tells nothing about
its content because no plaintext ballot row exists at all.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: plaintexts are padded to a multiple of this many bytes
PAD = 512
#: what a sealed value starts with (also tells it from a reply recorded in clear before)
PREFIX = "sealed:v1:"
_NONCE = 12


class SealBroken(Exception):
    """A sealed value does not open: another key, or it was moved or altered."""


class Sealer:
    """Seals and opens values for one purpose each (``ballot``, ``reply``...)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._keys: dict[str, AESGCM] = {}

    def _aead(self, purpose: str) -> AESGCM:
        aead = self._keys.get(purpose)
        if aead is None:
            key = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=f"civic-bot {purpose} v1".encode(),
            ).derive(self._secret)
            aead = self._keys[purpose] = AESGCM(key)
        return aead

    def seal(self, purpose: str, data: bytes, *, bound_to: str, pad: int = PAD) -> str:
        """``data`` sealed for ``purpose``, padded to a multiple of ``pad`` bytes; it
        opens only with the same ``bound_to``."""
        length = len(data).to_bytes(4, "big")
        padded = length + data
        padded += bytes(-len(padded) % pad)
        nonce = os.urandom(_NONCE)
        sealed = self._aead(purpose).encrypt(nonce, padded, bound_to.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, purpose: str, value: str, *, bound_to: str) -> bytes:
        if not value.startswith(PREFIX):
            raise SealBroken("not a sealed value")
        try:
            raw = base64.b64decode(value.removeprefix(PREFIX), validate=True)
            padded = self._aead(purpose).decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealBroken("the value does not open with this key") from exc
        return padded[4 : 4 + int.from_bytes(padded[:4], "big")]


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)
