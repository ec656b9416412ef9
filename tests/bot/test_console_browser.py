"""The web console in a real browser: headless Chromium (Debian's chromium package) driven by
Playwright against `crmbot serve`'s app on a free port. Chooses a demo user and a chat, types, and
reads the rendered reply and the pushes addressed to that chat.

Skipped on a developer machine without Chromium; in CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.app import create_app
from bot.delivery.pushes import push
from handlers.reply import Heading, Paragraph, Reply
from tests.bot.conftest import Agency, LiveServer, channel_settings
from tests.bot.standin import StandIn

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip() -> None:
    missing = [] if os.path.exists(CHROMIUM) else ["chromium"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if missing:
        reason = f"console browser test needs {' and '.join(missing)} (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def page(agency: Agency, standin: StandIn) -> Iterator[object]:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)

    with agency.db.unit_of_work() as session:
        push(session, "wrgroup_p1", Reply(blocks=[Heading(text="逾期任务提醒"),
                                                  Paragraph(text="品牌策略提案 已逾期 2 天", tone="warning")]),
             dedupe_key="overdue:T-1:browser")
    settings = channel_settings(agency.db, standin)
    with LiveServer(create_app(settings, agency.db, worker=True)) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            tab = browser.new_page()
            tab.set_default_timeout(15_000)
            tab.goto(f"{server.url}/console")
            tab.agency = agency  # type: ignore[attr-defined]
            yield tab
        finally:
            browser.close()


def choose_chat(page, user_id: str, chat_id: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # the chat list is fetched per person; wait until it is this person's before choosing
    expect(page.locator("#who")).to_contain_text(f"（{user_id}）")
    page.select_option("#chat", chat_id)


def say(page, text: str) -> object:  # type: ignore[no-untyped-def]
    before = page.locator(".msg.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}")
    return page.locator(".msg.bot").last


def test_staff_member_asks_in_a_project_group_and_sees_pushes(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.wait_for_selector("#person option[value='staff|am1']", state="attached")
    page.select_option("#person", "staff|am1")
    choose_chat(page, "am1", "wrgroup_p1")
    expect(page.locator("#title")).to_contain_text("星屿品牌升级项目群")
    push_bubble = page.locator(".msg.push").first
    push_bubble.wait_for()
    assert "逾期任务提醒" in push_bubble.inner_text()
    assert push_bubble.locator(".tone-warning").inner_text() == "品牌策略提案 已逾期 2 天"

    reply = say(page, "/客户 星屿科技")
    assert reply.locator("h3").inner_text() == "客户档案｜星屿科技（C-1）"  # type: ignore[attr-defined]
    text = reply.inner_text()  # type: ignore[attr-defined]
    assert "13812341234" in text and "战略级" in text  # the owner sees the phone unmasked

    # a push queued while the page is open shows up in that chat
    with page.agency.db.unit_of_work() as session:
        push(session, "wrgroup_p1", Reply.text("明天 10:00 提案彩排"), dedupe_key="rehearsal:browser")
    page.wait_for_function("[...document.querySelectorAll('.msg.push')].some(e => e.innerText.includes('提案彩排'))")


def test_client_contact_uses_the_service_chat(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.wait_for_selector("#person option[value='client|wm_client_1']", state="attached")
    page.select_option("#person", "client|wm_client_1")
    expect(page.locator("#who")).to_contain_text("（wm_client_1）")
    expect(page.locator("#chat")).to_have_value("kf:wm_client_1")
    reply = say(page, "/项目 星屿科技品牌升级")
    text = reply.inner_text()  # type: ignore[attr-defined]
    assert "项目进度｜星屿科技品牌升级" in text and "策划甲" not in text
    refused = say(page, "/客户 澜山茶饮")
    assert "仅限公司内部同事" in refused.inner_text()  # type: ignore[attr-defined]
