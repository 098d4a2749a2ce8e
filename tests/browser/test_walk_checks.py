"""The axe walk's own checks (tests/browser/test_axe.py): ``clipped`` finds what is cut off and
only that; the screenshots' index lists every shot of every city."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.layout import clipped
from tests.browser.screenshots import Shots

PAGE = """<html lang="en"><head><title>t</title><style>
.hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px}
</style></head><body><main>
<p class="hidden">Read by screen readers only, clipped on purpose</p>
<a class="skip" href="#x">Skip to content</a>
<div style="overflow-x:auto" tabindex="0"><table><tr><td style="white-space:nowrap">%s</td></tr></table></div>
<p>A paragraph that wraps as it should, however long it is, over several lines of a phone.</p>
%s
</main></body></html>"""
LONG = "A very long line of text that a phone cannot show in one line " * 2


@pytest.mark.browser
def test_clipped_names_what_is_cut_and_nothing_else(browser):
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    page.set_content(PAGE % (LONG, ""))
    assert clipped(page) == []  # hidden on purpose, or inside a region that scrolls
    cases = {
        '<button style="width:8rem;overflow:hidden;white-space:nowrap">Apply for a reduction</button>':
            'is cut off at its right edge',
        '<p style="width:6rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">Customer number</p>':
            'is cut off at its right edge',
        '<p style="height:1.2em;overflow:hidden">Three lines<br>of text<br>in one</p>': 'is cut off at its bottom edge',
        '<p style="width:5rem">Unbreakable_identifier_T4000020012211</p>': 'runs out of its box',
        f'<p style="white-space:nowrap">{LONG}</p>': 'the page is',
        '<p style="position:relative;left:300px;width:200px">Pushed off the screen</p>': 'lies outside the window',
    }
    for html, finding in cases.items():
        page.set_content(PAGE % ("short", html))
        found = clipped(page)
        assert any(finding in line for line in found), (html, found)
    context.close()


class FakePage:
    def screenshot(self, path: str, full_page: bool) -> None:
        assert full_page
        Path(path).write_bytes(b"png")


def test_the_index_lists_every_city_s_screenshots(tmp_path):
    assert Shots("nayoro", root="").write_index() is None  # no folder: nothing is written
    for slug in ("nayoro", "kanazawa"):
        shots = Shots(slug, root=str(tmp_path))
        for language in ("ja", "en"):
            for width in (360, 1280):
                shots.take(FakePage(), language, width, "login")
                shots.take(FakePage(), language, width, "mypage-bills-bill_id")
        index = shots.write_index()
    assert (tmp_path / "kanazawa/en/360/login.png").read_bytes() == b"png"
    text = index.read_text(encoding="utf-8")
    assert "16 screenshots" in text and text.count("<img") == 16
    assert 'href="nayoro/en/1280/mypage-bills-bill_id.png"' in text and "kanazawa: 2 pages, 8 screenshots" in text
    assert len(json.loads((tmp_path / "nayoro/en/shots.json").read_text())) == 4
    Shots("nayoro", root=str(tmp_path)).write_index()  # another test of the city: the others' shots stay listed
    assert index.read_text(encoding="utf-8").count("<img") == 16
