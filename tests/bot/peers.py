"""The messengers' side of the wire, written from their published protocols and nothing of ours.

Neither this project's code nor wechatpy / dingtalk-sdk is imported here: the tests build every
callback the way WeCom and DingTalk build it, and check every answer the way they check it.

WeCom (企业微信 回调加解密, also used by 智能机器人 with receiveid "" and by DingTalk event
subscriptions with receiveid = the app key):

- ``msg_signature = sha1("".join(sorted([token, timestamp, nonce, encrypt])))`` (hex)
- ``key = base64decode(EncodingAESKey + "=")`` (32 bytes), ``iv = key[:16]``
- ``encrypt = base64(AES-256-CBC(key, iv, pkcs7_32(random16 + len(msg) as 4 bytes big-endian
  + msg + receiveid)))``, PKCS#7 padding to a multiple of 32 bytes.

DingTalk: robot callback headers ``timestamp`` (ms) and ``sign = base64(HMAC-SHA256(appSecret,
f"{timestamp}\\n{appSecret}"))``; a custom robot webhook adds ``&timestamp=…&sign=urlencode(…)``
computed the same way with the robot's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class PeerError(AssertionError):
    """An answer the messenger would not accept."""


def sha1_sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1]
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise PeerError("PKCS#7 填充不正确")
    return data[:-n]


@dataclass
class AesScheme:
    """The AES envelope shared by WeCom callbacks and DingTalk event subscriptions."""

    token: str
    aes_key: str  # EncodingAESKey, 43 characters
    receive_id: str

    @property
    def key(self) -> bytes:
        key = base64.b64decode(self.aes_key + "=")
        assert len(key) == 32
        return key

    def encrypt(self, plaintext: str, *, receive_id: str | None = None) -> str:
        msg = plaintext.encode("utf-8")
        rid = (self.receive_id if receive_id is None else receive_id).encode("utf-8")
        raw = os.urandom(16) + struct.pack(">I", len(msg)) + msg + rid
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(_pad(raw)) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> tuple[str, str]:
        """(message, receive id)."""
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        raw = _unpad(decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize())
        (length,) = struct.unpack(">I", raw[16:20])
        return raw[20:20 + length].decode("utf-8"), raw[20 + length:].decode("utf-8")

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sha1_sign(self.token, timestamp, nonce, encrypt)

    def open(self, encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
        """Check the signature and the receive id of an answer, and decrypt it."""
        if self.sign(str(timestamp), str(nonce), encrypt) != signature:
            raise PeerError("回复的签名不正确")
        message, rid = self.decrypt(encrypt)
        if rid != self.receive_id:
            raise PeerError(f"回复的 receiveid 是 {rid!r}，应为 {self.receive_id!r}")
        return message


def _stamp() -> tuple[str, str]:
    return str(int(time.time())), str(secrets.randbelow(10**9))


def xml_fields(data: str | bytes) -> dict[str, str]:
    root = ET.fromstring(data)
    if root.tag != "xml":
        raise PeerError("根元素不是 <xml>")
    return {child.tag: child.text or "" for child in root}


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def plain_xml(fields: dict[str, Any]) -> str:
    body = "".join(f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{_cdata(str(v))}</{k}>"
                   for k, v in fields.items())
    return f"<xml>{body}</xml>"


@dataclass
class Signed:
    """A request as the messenger sends it: query parameters and body."""

    params: dict[str, str]
    body: bytes


class WeComApp(AesScheme):
    """WeCom calling a self-built app's callback URL (XML), and checking its passive answers."""

    def verify_url(self, echo: str) -> tuple[dict[str, str], str]:
        """GET parameters for the URL check, and the plaintext the app must answer."""
        timestamp, nonce = _stamp()
        echostr = self.encrypt(echo)
        return ({"msg_signature": self.sign(timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce,
                 "echostr": echostr}, echo)

    def post(self, fields: dict[str, Any], *, tamper: str | None = None) -> Signed:
        """An encrypted callback carrying ``fields`` (ToUserName is the corp id).

        ``tamper``: "signature" (wrong msg_signature), "body" (a byte of the ciphertext changed after
        signing), "receiver" (encrypted for another corp), "missing" (no msg_signature)."""
        plaintext = plain_xml({"ToUserName": self.receive_id, **fields})
        timestamp, nonce = _stamp()
        encrypt = self.encrypt(plaintext, receive_id="ww_other_corp" if tamper == "receiver" else None)
        signature = self.sign(timestamp, nonce, encrypt)
        if tamper == "body":
            encrypt = encrypt[:10] + ("A" if encrypt[10] != "A" else "B") + encrypt[11:]
        if tamper == "signature":
            signature = "0" * 40
        params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        if tamper == "missing":
            del params["msg_signature"]
        body = plain_xml({"ToUserName": self.receive_id, "Encrypt": encrypt, "AgentID": 1000002})
        return Signed(params, body.encode("utf-8"))

    def text(self, user: str, content: str, msg_id: str, *, create_time: int | None = None,
             tamper: str | None = None) -> Signed:
        return self.post({"FromUserName": user, "CreateTime": create_time or int(time.time()), "MsgType": "text",
                          "Content": content, "MsgId": msg_id, "AgentID": 1000002}, tamper=tamper)

    def event(self, user: str, event: str, *, create_time: int | None = None, **extra: Any) -> Signed:
        fields: dict[str, Any] = {"FromUserName": user} if user else {}
        fields.update({"CreateTime": create_time or int(time.time()), "MsgType": "event", "Event": event})
        fields.update(extra)
        return self.post(fields)

    def open_reply(self, body: str | bytes) -> dict[str, str]:
        """A passive answer as WeCom reads it: outer XML, signature, decryption, inner XML."""
        outer = xml_fields(body)
        inner = self.open(outer["Encrypt"], outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xml_fields(inner)


class WeComRobot(AesScheme):
    """WeCom calling a smart robot's (智能机器人) URL: JSON, receiveid ""."""

    def __init__(self, token: str, aes_key: str) -> None:
        super().__init__(token, aes_key, "")

    def verify_url(self, echo: str) -> tuple[dict[str, str], str]:
        timestamp, nonce = _stamp()
        echostr = self.encrypt(echo)
        return ({"msg_signature": self.sign(timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce,
                 "echostr": echostr}, echo)

    def post(self, message: dict[str, Any], *, tamper: str | None = None) -> Signed:
        timestamp, nonce = _stamp()
        encrypt = self.encrypt(json.dumps(message, ensure_ascii=False))
        signature = "f" * 40 if tamper == "signature" else self.sign(timestamp, nonce, encrypt)
        return Signed({"msg_signature": signature, "timestamp": timestamp, "nonce": nonce},
                      json.dumps({"encrypt": encrypt}).encode("utf-8"))

    def text(self, user: str, content: str, msg_id: str, *, chat_id: str | None = None,
             response_url: str = "", tamper: str | None = None) -> Signed:
        message: dict[str, Any] = {"msgid": msg_id, "aibotid": "AIBOT_TEST", "chattype": "group" if chat_id else "single",
                                   "from": {"userid": user}, "response_url": response_url, "msgtype": "text",
                                   "text": {"content": content}}
        if chat_id:
            message["chatid"] = chat_id
        return self.post(message, tamper=tamper)

    def open_reply(self, body: dict[str, Any]) -> dict[str, Any]:
        plain = self.open(str(body["encrypt"]), str(body["msgsignature"]), str(body["timestamp"]), str(body["nonce"]))
        value = json.loads(plain)
        assert isinstance(value, dict)
        return value


def dingtalk_sign(timestamp_ms: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class DingTalkRobot:
    """DingTalk calling an enterprise robot's HTTP callback."""

    app_secret: str
    robot_code: str
    oapi_base: str

    def headers(self, *, timestamp_ms: int | None = None, tamper: str | None = None) -> dict[str, str]:
        ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
        sign = dingtalk_sign(ts, self.app_secret if tamper != "secret" else "not-the-secret")
        headers = {"timestamp": ts, "sign": sign, "Content-Type": "application/json; charset=utf-8"}
        if tamper == "missing":
            del headers["sign"]
        return headers

    def message(self, text: str, msg_id: str, *, staff_id: str, group: bool = False, conversation_id: str = "cid-dm",
                at: list[str] | None = None, webhook_ttl_ms: int = 90 * 60_000,
                created_ms: int | None = None) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {
            "conversationId": conversation_id, "conversationType": "2" if group else "1",
            "atUsers": [{"dingtalkId": f"$:LWCP_v1:${u}", "staffId": u} for u in (at or [])],
            "chatbotCorpId": "ding_corp", "chatbotUserId": "$:LWCP_v1:$robot", "msgId": msg_id,
            "senderNick": "测试用户", "isAdmin": False, "senderStaffId": staff_id,
            "sessionWebhookExpiredTime": now + webhook_ttl_ms, "createAt": created_ms or now,
            "senderCorpId": "ding_corp", "senderId": f"$:LWCP_v1:${staff_id}", "isInAtList": True,
            "sessionWebhook": f"{self.oapi_base}/robot/sendBySession?session=s-{msg_id}",
            "text": {"content": f" {text}"}, "robotCode": self.robot_code, "msgtype": "text",
            **({"conversationTitle": "项目群"} if group else {}),
        }


def check_custom_robot_url(url: str, secret: str, *, now_ms: int | None = None) -> None:
    """What DingTalk checks on a signed custom robot webhook (加签): sign matches, timestamp within an hour."""
    query = parse_qs(urlsplit(url).query)
    timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    if not timestamp or not sign:
        raise PeerError("webhook 缺少 timestamp 或 sign")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > 3600_000:
        raise PeerError("webhook timestamp 超过一小时")
    if sign != dingtalk_sign(timestamp, secret):
        raise PeerError("webhook sign 不匹配")
    if f"sign={quote_plus(sign)}" not in url:
        raise PeerError("webhook sign 没有做 urlencode")


class DingTalkEvents(AesScheme):
    """DingTalk pushing an encrypted event subscription (事件订阅) to the app's URL."""

    def post(self, event: dict[str, Any]) -> Signed:
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(4)
        encrypt = self.encrypt(json.dumps(event))
        return Signed({"signature": self.sign(timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce},
                      json.dumps({"encrypt": encrypt}).encode("utf-8"))

    def open_reply(self, body: dict[str, Any]) -> str:
        return self.open(str(body["encrypt"]), str(body["msg_signature"]), str(body["timeStamp"]), str(body["nonce"]))
