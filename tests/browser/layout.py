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


# What is cut off on the page, as one line per finding (empty: nothing). Text is "visible" when
# it has a non-blank text node of its own and a box larger than 1 px (the visually hidden texts
# for screen readers are 1 px boxes, clipped on purpose). A box that scrolls (overflow auto or
# scroll: a focusable .table-wrap) hides nothing for good, so what lies inside it is not checked
# against the window, only the box itself.
CLIPPED = r"""() => {
  const width = window.innerWidth, found = [];
  const name = e => {
    const id = e.id ? '#' + e.id : '', cls = [...e.classList].slice(0, 2).map(c => '.' + c).join('');
    return `<${e.localName}${id}${cls}> "${e.textContent.trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
  };
  const ownText = e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const page = document.documentElement.scrollWidth;
  if (page > width) {
    const wide = [...document.body.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect(); return r.width > 0 && r.right > width + 1 && !scrolls(e); });
    const inner = wide.filter(e => !wide.some(o => o !== e && e.contains(o)));
    found.push(`the page is ${page} px wide in a ${width} px window: ` + inner.slice(0, 3).map(name).join(', '));
  }
  for (const e of document.body.querySelectorAll('*')) {
    if (!ownText(e) || !e.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const r = e.getBoundingClientRect(), style = getComputedStyle(e);
    if (r.width <= 1 || r.height <= 1 || style.position === 'absolute' && r.right <= 0) continue;  // hidden on purpose
    if (!scrolls(e) && (r.left < -1 || r.right > width + 1)) {
      found.push(`${name(e)} lies outside the window (${Math.round(r.left)}..${Math.round(r.right)} px)`);
      continue;
    }
    if (style.display.startsWith('inline') && style.display !== 'inline-block') continue;  // no box of its own to overflow
    if (e instanceof SVGElement) continue;  // a chart's text has no box; the chart is checked against the window
    const cutX = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    const cutY = ['hidden', 'clip'].includes(style.overflowY);
    if (cutX && e.scrollWidth > e.clientWidth + 1) found.push(`${name(e)} is cut off at its right edge`);
    else if (cutY && e.scrollHeight > e.clientHeight + 1) found.push(`${name(e)} is cut off at its bottom edge`);
    else if (!cutX && e.scrollWidth > e.clientWidth + 1 && style.overflowX === 'visible' && e.clientWidth > 0)
      found.push(`${name(e)} runs out of its box (${e.scrollWidth} px in ${e.clientWidth} px)`);
  }
  return found;
}"""


def clipped(page) -> list[str]:
    """Everything cut off or out of sight sideways: the page wider than the window (naming
    the elements that stick out), a visible text partly outside the window, a text box whose
    content is cut (overflow hidden or an ellipsis) or runs out of its box."""
    return page.evaluate(CLIPPED)
