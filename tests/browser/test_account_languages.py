"""The account pages in English and やさしい日本語 on a 360 px phone (issue 13 §10): registration 2/4
with its messages at the fields, the member's profile, password, notification, contracts and
withdraw pages, the inquiry form, contact and accessibility pages, in both cities. Long English
words must not push anything out of the window. Screenshots go to ``ACCOUNT_SCREENSHOTS`` (a
folder; CI keeps it as an artefact) or the test's temporary folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.layout import clipped
from tests.browser.members import PASSWORD, member_with_bills
from tests.smtp import find_code

MEMBER_PAGES = ("/mypage/profile", "/mypage/profile/password", "/mypage/profile/notifications", "/mypage/contracts",
                "/mypage/withdraw", "/inquiry", "/contact", "/accessibility")
HEADINGS = {"en": {"/mypage/profile": "Your membership details", "/mypage/contracts": "Procedures"},
            "easy": {"/mypage/profile": "とうろくした じょうほうを 見る・かえる", "/mypage/contracts": "てつづき"}}


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ACCOUNT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert clipped(page) == [], name


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "easy"])
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_account_pages_fit_a_phone_in_each_language(page, live_server, live_app, live_mail, tmp_path, slug, language):
    folder = shots(tmp_path)
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_server.url(slug)}])

    # Registration 2/4, submitted empty: every message at its field.
    address = f"shots-{slug}-{language}@example.jp"
    page.goto(live_server.url(slug, "/register/"))
    page.locator("input[type=email]").fill(address)
    page.locator("input[type=email]").press("Enter")
    page.wait_for_url("**/register/verify")
    page.locator("input[autocomplete=one-time-code]").fill(find_code(_mail_to(live_mail, address)))
    page.locator("input[autocomplete=one-time-code]").press("Enter")
    page.wait_for_url("**/register/details")
    page.locator("form[action$='/register/details'] button[type=submit]").last.click()
    page.wait_for_url("**/register/details")
    expect_lang = "en" if language == "en" else "ja"
    assert page.locator("html").get_attribute("lang") == expect_lang
    assert page.locator(".error").count() >= 5
    check(page, folder, f"{slug}-{language}-register-details-errors")

    identifier, _number, _rows = member_with_bills(live_app, slug)
    page.goto(live_server.url(slug, "/login"))
    page.locator("input[name=identifier]").fill(identifier)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url("**/mypage")
    for path in MEMBER_PAGES:
        page.goto(live_server.url(slug, path))
        if path in HEADINGS[language]:
            assert page.get_by_role("heading", level=1).first.inner_text() == HEADINGS[language][path]
        check(page, folder, f"{slug}-{language}{path.replace('/', '-')}")


def _mail_to(server, address: str):
    """The newest mail to ``address``, waiting for it to arrive."""
    import time

    for _ in range(50):
        found = server.to(address)
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address}")
