"""The dashboard's header and footer links (窓口一覧, お問い合わせ, FAQ, このサイトについて,
個人情報) open pages with the city's own content, for a logged-in member of either city."""
from __future__ import annotations

import re

import pytest

from tests.mypage.usage.conftest import history_rows

LINKS = ("お客さま窓口一覧", "メールでのお問い合わせ", "FAQ", "このサイトについて", "個人情報のお取り扱いについて")
CITY = {
    # slug: (customer number, newest month, words of the city's own texts, one per link, in order)
    "nayoro": ("00012345682", "2026-10", ("01654-3-2111", "お問い合わせ", "認証コードのメールが届きません",
                                           "名寄市上下水道ポータルは", "個人情報の保護に関する法律"), "金沢"),
    "kanazawa": ("0100012345", "2026-09", ("076-220-2111", "お問い合わせ", "ログインIDを忘れました",
                                            "毎日AM7:00〜AM2:00", "金沢市は、金沢市上下水道ポータルサイト"), "名寄"),
}


def main_text(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")] if "<main" in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_header_and_footer_pages_show_the_citys_content(request, client_for, customer, login, clock, slug):
    tenant = request.getfixturevalue(slug)
    number, newest, words, other_city = CITY[slug]
    customer(tenant, [number], bills=history_rows(number, 2, newest=newest, step=2 if slug == "kanazawa" else 1))
    client = client_for(slug)
    login(client, tenant)
    dashboard = client.get("/mypage").get_data(as_text=True)
    for label, expected in zip(LINKS, words, strict=True):
        href = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>{label}</a>', dashboard)
        assert href, label
        response = client.get(href.group(1))
        assert response.status_code == 200, (label, href.group(1))
        page = response.get_data(as_text=True)
        assert f"{label if label != 'FAQ' else 'よくある質問'} | {tenant.portal_name}" in page, label
        text = main_text(page)
        assert expected in text, (label, text[:300])
        assert other_city not in text, (label, text[:300])
