"""What the browser tests check of a page's layout: nothing wider than the window, and an
element reached by the keyboard alone."""
from __future__ import annotations


def no_sideways_scroll(page) -> bool:
    """Nothing wider than the window (at 360 px: no sideways scrolling on a phone)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def reaches_by_tab(page, selector: str, limit: int = 80) -> bool:
    """Tab from the top of the page until the element matching ``selector`` has the focus."""
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return True
    return False
