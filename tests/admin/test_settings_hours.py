"""利用時間・休業日: the page names the texts that repeat the hours; the history names whole sections."""
from __future__ import annotations

import html
import re

from tests.admin.test_settings import settings_post


def timed_texts_box(page: str) -> str | None:
    found = re.search(r'<div class="notice-box" id="timed-texts">(.*?)</div>', page, re.S)
    return found.group(1) if found else None


def test_the_hours_page_names_the_texts_that_write_a_time(staff_client):
    # Kanazawa's texts write {service_hours}, filled from the setting: nothing to name. A text
    # that writes the hours by hand (AM7:00〜AM2:00, as it once did) is named with its page.
    client = staff_client("kanazawa")
    assert timed_texts_box(client.get("/admin/settings/hours").get_data(as_text=True)) is None
    settings_post(client, "pages", {"texts.login_notice": "ご利用時間はAM7:00〜AM2:00です。"})
    box = timed_texts_box(client.get("/admin/settings/hours").get_data(as_text=True))
    assert box is not None
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', box) == [
        ("/admin/settings/pages", "ご利用時間の案内(ログイン画面)"),
    ]


def test_the_box_follows_the_citys_texts(staff_client):
    client = staff_client("nayoro")
    assert timed_texts_box(client.get("/admin/settings/hours").get_data(as_text=True)) is None
    settings_post(client, "pages", {"texts.login_notice": "ご利用は 8時 から 20：00 までです。"})
    box = timed_texts_box(client.get("/admin/settings/hours").get_data(as_text=True))
    assert box is not None and "ご利用時間の案内(ログイン画面)" in box and "よくある質問" not in box
    # "24時間" is not a clock time.
    settings_post(client, "pages", {"texts.login_notice": "24時間ご利用いただけます。"})
    assert timed_texts_box(client.get("/admin/settings/hours").get_data(as_text=True)) is None
    # Other pages do not show the box.
    assert 'id="timed-texts"' not in client.get("/admin/settings/pages").get_data(as_text=True)


def test_the_history_names_a_section_switched_on_or_off_in_japanese(staff_client):
    client = staff_client("kanazawa")
    settings_post(client, "hours", {"service_hours.__none__": "1"})
    page = html.unescape(client.get("/admin/settings/history").get_data(as_text=True))
    assert re.search(r'<th scope="row">利用時間<br><code class="muted">service_hours</code></th>', page)
