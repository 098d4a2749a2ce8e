"""The city's public information pages: about, privacy, terms, FAQ, contact windows, accessibility."""
from __future__ import annotations

from flask import abort
from flask_babel import lazy_gettext as _l

from waterportal.notices.accessibility import STANDARD, TARGET_LEVEL, latest_check
from waterportal.notices.blueprint import pages
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.templating import render_page
from waterportal.tenancy.windows import windows_in
from waterportal.tenancy.words import filled_texts

TEXT_PAGES = {
    "about": (_l("このサイトについて"), "about"),
    "privacy": (_l("個人情報のお取り扱いについて"), "privacy"),
    "terms": (_l("利用規約"), "terms"),
}


@pages.get("/pages/<name>")
def text_page(name: str):
    """このサイトについて / 個人情報のお取り扱いについて / 利用規約, in the city's words."""
    if name not in TEXT_PAGES:
        abort(404)
    title, key = TEXT_PAGES[name]
    return render_page("pages/text.html", title=title, body=filled_texts(current_tenant().settings)[key])


@pages.get("/faq")
def faq():
    """よくある質問 (FAQ)."""
    return render_page("pages/faq.html", items=filled_texts(current_tenant().settings)["faq"])


@pages.get("/contact")
def contact():
    """お客さま窓口一覧, each window in the page's language where the city wrote one."""
    return render_page("pages/contact.html", windows=windows_in(current_tenant().settings))


@pages.get("/accessibility")
def accessibility():
    """ウェブアクセシビリティ方針: target level, scope and the latest check's date and result."""
    tenant = current_tenant()
    return render_page("pages/accessibility.html", standard=STANDARD, level=TARGET_LEVEL,
                       check=latest_check(tenant.slug), contact=tenant.settings["contact"])
