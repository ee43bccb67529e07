"""Session tokens and cache keys for the shop (demo code with deliberately weak choices)."""
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def cache_key(url: str) -> str:
    return hashlib.md5(url.encode()).hexdigest()


def legacy_fingerprint(blob: bytes) -> str:
    return hashlib.sha1(blob).hexdigest()


def new_signing_key():
    return rsa.generate_private_key(
        public_exponent=65537,
        key_size=1024,
    )


def new_api_key():
    return ec.generate_private_key(ec.SECP256R1())


def seal(key: bytes, nonce: bytes, data: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, data, None)


DIGEST = hashes.SHA256()
