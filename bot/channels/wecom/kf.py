"""微信客服 (WeChat Customer Service): clients write from WeChat; WeCom sends a ``kf_msg_or_event``
callback; we pull the messages with ``kf/sync_msg`` from a cursor kept in the database and answer
each client message through ``kf/send_msg`` (via the outbox).

The cursor is saved after each page; every message is claimed by its msgid first, so a second
process syncing at the same time, or a re-read after a crash, handles nothing twice. The sender is an
external client: ``resolve_actor(..., external=True)`` maps the external_userid to a client contact
(or a guest, who is told how to get access).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from bot.delivery.addresses import WeComKfCustomer
from bot.delivery.errors import DeliveryError
from crm_core.services import inbound
from handlers.messages import IncomingMessage

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("crmbot.wecom.kf")
CUSTOMER_ORIGIN = 3  # origin 3: sent by the WeChat customer (4: system event, 5: a servicer)
MAX_PAGES = 50


class KfSync:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def schedule(self, token: str, open_kfid: str) -> None:
        """Sync in the background (the callback answers at once)."""
        self.runtime.runner.executor.submit(self._safe_sync, token, open_kfid)

    def _safe_sync(self, token: str, open_kfid: str) -> None:
        try:
            handled = self.sync(token, open_kfid)
            log.info("微信客服 %s: handled %d new messages", open_kfid or "-", handled)
        except DeliveryError as exc:
            log.warning("微信客服 sync_msg failed: %s", exc)
        except Exception:
            log.exception("微信客服 sync failed")

    def _lock(self, open_kfid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(open_kfid, threading.Lock())

    def sync(self, token: str, open_kfid: str) -> int:
        """Read every page from the saved cursor; handle new client text messages. Returns how many."""
        name = f"wecom_kf:{open_kfid or '*'}"
        handled = 0
        with self._lock(open_kfid):
            for _ in range(MAX_PAGES):
                with self.runtime.db.unit_of_work() as session:
                    cursor = inbound.get_cursor(session, name)
                data = self.runtime.wecom.kf_sync(cursor, token, open_kfid)
                for item in data.get("msg_list") or []:
                    handled += self.handle_item(item)
                next_cursor = str(data.get("next_cursor") or cursor)
                with self.runtime.db.unit_of_work() as session:
                    inbound.set_cursor(session, name, next_cursor)
                if not data.get("has_more"):
                    break
        return handled

    def handle_item(self, item: dict[str, Any]) -> int:
        if int(item.get("origin", 0) or 0) != CUSTOMER_ORIGIN or not item.get("msgid"):
            return 0
        msgid = str(item["msgid"])
        external_userid = str(item.get("external_userid", ""))
        kfid = str(item.get("open_kfid", ""))
        text = str((item.get("text") or {}).get("content", "")) if item.get("msgtype") == "text" else ""
        message = IncomingMessage(channel="wecom", text=text or "/帮助", sender_id=external_userid,
                                  chat_id=f"kf:{kfid}:{external_userid}", external=True, message_id=msgid)
        from handlers.reply import Reply

        answer = None if text else Reply.text("暂时只能处理文字消息，请直接输入您的问题。")
        outcome = self.runtime.runner.process(message, "wecom_kf", msgid, WeComKfCustomer(kfid, external_userid),
                                              answer=answer)
        return 0 if outcome.kind == "duplicate" else 1
