"""WeCom callback crypto (企业微信 回调加解密), shared by the self-built app (XML) and the smart
robot (JSON), built on wechatpy's ``PrpCrypto``.

The published scheme: ``msg_signature = sha1(sort(token, timestamp, nonce, encrypt))``; ``encrypt``
is base64(AES-256-CBC(key, iv=key[:16], PKCS#7 to 32 bytes,
random(16) + len(msg) as 4 bytes big-endian + msg + receive_id)), with key = base64(EncodingAESKey+"=").
``receive_id`` is the corp id for the app and the empty string for a smart robot. wechatpy 1.8 works
with the current ``cryptography``; we check the signature ourselves (constant time) and parse XML
with defusedxml, and draw the 16 random bytes from ``secrets`` instead of ``random``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from wechatpy.enterprise.crypto import PrpCrypto

_ALPHABET = string.ascii_letters + string.digits


class CryptoError(ValueError):
    """The payload could not be decrypted or was meant for another receiver."""


class BadXml(ValueError):
    """Malformed XML, or XML with entities/DTDs (refused by defusedxml)."""


_UNBIASED = 256 - 256 % len(_ALPHABET)  # bytes below this map onto the alphabet evenly (byte % 62)


def random_alphanumeric(n: int) -> str:
    """``n`` characters drawn uniformly from letters and digits, from one ``secrets.token_bytes`` call
    (rarely two): ``secrets.choice`` per character asked the kernel for random bytes 16 times a reply."""
    out: list[str] = []
    while len(out) < n:
        out.extend(_ALPHABET[b % len(_ALPHABET)] for b in secrets.token_bytes(2 * n) if b < _UNBIASED)
    return "".join(out[:n])


class _SecretPrpCrypto(PrpCrypto):  # type: ignore[misc]
    def get_random_string(self) -> str:
        return random_alphanumeric(16)


def sha1_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode("utf-8")).hexdigest()


def decode_aes_key(aes_key: str) -> bytes:
    try:
        key = base64.b64decode(aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("EncodingAESKey 不是 43 位 base64 字符串") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey 解码后必须是 32 字节")
    return key


class CallbackCrypto:
    def __init__(self, token: str, aes_key: str, receive_id: str) -> None:
        self.token = token
        self.receive_id = receive_id
        self._prp = _SecretPrpCrypto(decode_aes_key(aes_key))

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypt)

    def verify(self, signature: str | None, timestamp: str | None, nonce: str | None, encrypt: str | None) -> bool:
        if not (signature and timestamp and nonce and encrypt):
            return False
        return hmac.compare_digest(self.signature(timestamp, nonce, encrypt), signature.lower())

    def decrypt(self, encrypt: str) -> str:
        try:
            return str(self._prp.decrypt(encrypt, self.receive_id))
        except Exception as exc:  # wechatpy raises bare exceptions for bad padding/base64/receive id
            raise CryptoError(f"解密失败：{type(exc).__name__}") from None

    def encrypt(self, plaintext: str, *, timestamp: str | None = None, nonce: str | None = None) -> tuple[str, str, str, str]:
        """Returns (encrypt, signature, timestamp, nonce)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        encrypt = self._prp.encrypt(plaintext, self.receive_id)
        encrypt = encrypt.decode("ascii") if isinstance(encrypt, bytes) else str(encrypt)
        return encrypt, self.signature(timestamp, nonce, encrypt), timestamp, nonce


def parse_xml(data: bytes | str) -> dict[str, str]:
    """Top-level children of a WeCom ``<xml>`` document as a flat dict (entities refused)."""
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
        raise BadXml(f"XML 无法解析：{type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadXml("根元素不是 <xml>")
    return {child.tag: (child.text or "") for child in root}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """A passive text reply (plaintext, before encryption)."""
    return ("<xml>"
            f"<ToUserName>{_cdata(to_user)}</ToUserName>"
            f"<FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{_cdata(content)}</Content>"
            "</xml>")


def encrypted_xml(crypto: CallbackCrypto, plaintext: str) -> str:
    encrypt, signature, timestamp, nonce = crypto.encrypt(plaintext)
    return ("<xml>"
            f"<Encrypt>{_cdata(encrypt)}</Encrypt>"
            f"<MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce>{_cdata(nonce)}</Nonce>"
            "</xml>")


def encrypted_json(crypto: CallbackCrypto, plaintext: str) -> dict[str, str]:
    """The smart robot's encrypted reply envelope."""
    encrypt, signature, timestamp, nonce = crypto.encrypt(plaintext)
    return {"encrypt": encrypt, "msgsignature": signature, "timestamp": timestamp, "nonce": nonce}
