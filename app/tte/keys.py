"""Loket's key for the certificates at rest: each uploaded PKCS#12 is sealed with Fernet on top of
its own passphrase, so a copy of the database alone opens nothing."""
from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.tte.errors import SigningRefused

HKDF_INFO = b"loket-tte-certificates"


def sealing_key(config: Mapping) -> bytes:
    """config TTE_KEY (a Fernet key), or one derived from SECRET_KEY: changing SECRET_KEY without
    setting TTE_KEY to the old derivation makes every stored certificate unreadable (re-upload)."""
    configured = config.get("TTE_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    secret = config.get("SECRET_KEY")
    assert secret, "SECRET_KEY is required to derive the TTE sealing key"
    secret_bytes = secret.encode() if isinstance(secret, str) else bytes(secret)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret_bytes)
    return base64.urlsafe_b64encode(derived)


def seal(p12: bytes, key: bytes) -> bytes:
    return Fernet(key).encrypt(p12)


def unseal(sealed: bytes, key: bytes) -> bytes:
    try:
        return Fernet(key).decrypt(sealed)
    except InvalidToken:
        # The data was sealed under another key (SECRET_KEY or TTE_KEY changed) or is damaged.
        raise SigningRefused(
            "Sertifikat TTE yang tersimpan tidak dapat dibuka dengan kunci Loket saat ini "
            "(TTE_KEY atau SECRET_KEY berubah); unggah ulang sertifikatnya."
        ) from None
