"""How a WeChat callback proves it came from WeChat, and how safe mode hides it.

Signatures (reference/channels.md §1): the SHA-1 hex of the sorted strings joined with no
separator — ``[token, timestamp, nonce]`` for ``signature``, plus the ``Encrypt`` text for
safe mode's ``msg_signature``. Safe mode: AES-256-CBC with the key ``base64(EncodingAESKey +
"=")`` and its first 16 bytes as IV; the plaintext is 16 random bytes, the message's length (4
bytes, big-endian), the message, then the app id, PKCS#7-padded to 32-byte blocks. A message
for another app id is refused: the key alone does not say whose it is.
"""

import base64
import binascii
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from leadpond.kit.errors import Forbidden

PAD_BLOCK = 32
RANDOM_BYTES = 16


class BadCallbackSignature(Forbidden):
    code = "bad_signature"


class UndecryptableCallback(Forbidden):
    code = "undecryptable"


def signature(*parts: str) -> str:
    """WeChat's signature of ``parts``: SHA-1 hex of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(given: str, *parts: str) -> None:
    """Raise :class:`BadCallbackSignature` unless ``given`` is the signature of ``parts``."""
    if not hmac.compare_digest(given.lower().encode(), signature(*parts).encode()):
        raise BadCallbackSignature("the signature does not match the server token")


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key an EncodingAESKey (43 base64 characters) stands for."""
    return base64.b64decode(encoding_aes_key + "=")


def decrypt(encrypted: str, keys: list[str], app_id: str) -> bytes:
    """The message inside a safe-mode ``Encrypt`` text, trying each key (the current one,
    then the one before a change); raises :class:`UndecryptableCallback`."""
    try:
        ciphertext = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UndecryptableCallback("Encrypt is not base64") from exc
    if not ciphertext or len(ciphertext) % 16:
        raise UndecryptableCallback("Encrypt is not whole AES blocks")
    for key in keys:
        message = _open(ciphertext, aes_key(key), app_id)
        if message is not None:
            return message
    raise UndecryptableCallback("no EncodingAESKey of this account decrypts the message")


def _open(ciphertext: bytes, key: bytes, app_id: str) -> bytes | None:
    """The message sealed with ``key`` for ``app_id``, or None."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= PAD_BLOCK or padded[-pad:] != bytes([pad]) * pad:
        return None
    plain = padded[:-pad]
    head = RANDOM_BYTES + 4
    if len(plain) < head:
        return None
    (length,) = struct.unpack(">I", plain[RANDOM_BYTES:head])
    message, sender = plain[head : head + length], plain[head + length :]
    if len(message) != length or not hmac.compare_digest(sender, app_id.encode()):
        return None
    return message
