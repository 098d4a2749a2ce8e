"""Blueprint ``portal``: the member pages (会員さま専用サイト, ④ graph, ⑤ 料金明細, ⑥ 書類).

Every page works on the selected contract (:mod:`waterportal.contracts.selection`) and reads
through the one-statement queries of :mod:`waterportal.billing.queries`, so a page issues
the same number of statements whatever the length of the history. Until the member's
``data_visible_from`` the pages say from when usage and bills can be seen instead.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from waterportal.accounts.forms import LogoutForm
from waterportal.accounts.models import Member
from waterportal.billing import queries
from waterportal.billing.cycles import contract_cycle
from waterportal.billing.documents import contract_documents
from waterportal.billing.households import Comparison, comparison_for
from waterportal.billing.invoice import invoice_facts
from waterportal.billing.issuing import bill_versions, member_bill_document, search_documents
from waterportal.billing.models import Bill
from waterportal.contracts.selection import (
    LinkedContract,
    linked_contracts,
    select_contract,
    selected_contract,
)
from waterportal.core.files import private_download
from waterportal.core.i18n import current_language
from waterportal.core.time import local_now, to_city_time
from waterportal.mypage.usage.blueprint import portal
from waterportal.mypage.usage.charts import comparison_rows, recent_usage_chart, usage_and_amount_charts
from waterportal.mypage.usage.daily import daily_chart, daily_rows
from waterportal.mypage.usage.forms import DocumentSearchForm, issuer_choices
from waterportal.notices.services import autolink, is_new, member_notices
from waterportal.readings.queries import recent_days
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.templating import city_template, render_page


def greeting(hour: int) -> str:
    """おはようございます (5-11時) / こんにちは (11-18時) / こんばんは."""
    if 5 <= hour < 11:
        return "おはようございます"
    if 11 <= hour < 18:
        return "こんにちは"
    return "こんばんは"


@portal.app_template_global("optional_url")
def optional_url(endpoint: str, **values) -> str | None:
    """``url_for(endpoint)`` if that page exists in this deployment, else None (link left out)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@dataclass(frozen=True)
class MemberPage:
    """What every member page knows: who, which contracts, which one, and the data gate."""

    tenant: TenantContext
    member: Member
    now: dt.datetime  # in the city's time zone
    links: list[LinkedContract]
    selected: LinkedContract | None
    visible_from: dt.date | None  # set while usage and bills may not be shown yet
    recent: tuple[Bill, ...] = ()  # the selected contract's last 12 bills, newest first (the dashboard asks)

    @property
    def latest_bill(self) -> Bill | None:
        return self.recent[0] if self.recent else None

    @property
    def contract_id(self) -> int | None:
        return self.selected.contract_id if self.selected else None

    @property
    def shows_data(self) -> bool:
        return self.selected is not None and self.visible_from is None


def member_page(*, with_recent_bills: bool = False) -> MemberPage:
    """Load the common context of a member page (one query: the member's links, and with
    ``with_recent_bills`` each linked contract's last 12 bills in the same statement)."""
    tenant: TenantContext = current_tenant()
    member = current_user._get_current_object()
    now = local_now(tenant.timezone)
    if with_recent_bills:
        links, bills = queries.links_and_recent_bills(member.id)
    else:
        links, bills = linked_contracts(member), {}
    selected = selected_contract(member, links)
    visible_from = member.data_visible_from
    if visible_from is not None and visible_from <= now.date():
        visible_from = None
    return MemberPage(tenant, member, now, links, selected, visible_from,
                      tuple(bills.get(selected.contract_id, ())) if selected else ())


def render_member(name: str, page: MemberPage, **context) -> str:
    """Render a member page with the shared parts (logout, switcher, gate notice)."""
    parts = city_template(page.tenant, "portal/_parts.html")
    return render_page(name, page=page, parts=parts, logout_form=LogoutForm(), **context)


@portal.get("")
@login_required
def dashboard():
    """会員さま専用サイト: greeting, お客さま番号, お知らせ, 今回の請求金額 and the menu."""
    page = member_page(with_recent_bills=True)
    language = current_language()
    notices = [(n.in_language(language), is_new(n, page.now, page.tenant)) for n in member_notices(page.tenant, page.now)]
    bill = page.latest_bill if page.shows_data else None
    updated = to_city_time(page.selected.contract.data_updated_at, page.tenant.timezone) if page.selected else None
    return render_member(
        "portal/dashboard.html", page, title=gettext("会員さま専用サイト"), greeting=greeting(page.now.hour),
        notices=notices, bill=bill, updated_at=updated,
        comparison=_household_comparison(page, bill.billing_month, bill.usage_m3) if bill else None,
        usage_chart=recent_usage_chart(page.recent) if bill else None,
        city_time=lambda moment: to_city_time(moment, page.tenant.timezone), autolink=autolink,
    )


@portal.post("/contract")
@login_required
def switch_contract():
    """Switch the お客さま番号 being viewed (only to one of the member's contracts)."""
    try:
        contract_id = int(request.form.get("contract_id", ""))
    except ValueError:
        abort(404)
    select_contract(current_user._get_current_object(), contract_id)
    target = request.form.get("next", "")
    allowed = {url_for(f"portal.{name}") for name in ("dashboard", "graph", "bills", "documents")}
    return redirect(target if target in allowed else url_for("portal.dashboard"))


@portal.get("/graph")
@login_required
def graph():
    """④ 使用量・請求金額のグラフ: up to two years, this year against the same months last year; and
    the last 30 days, one bar a day, for a contract with daily readings (issue 14 §6)."""
    page = member_page()
    rows, charts, days = [], [], []
    if page.shows_data:
        rows = comparison_rows(queries.recent_bills(page.contract_id, _cycle(page)), _cycle(page))
        charts = usage_and_amount_charts(rows) if rows else []
        days = daily_rows(recent_days(page.contract_id, page.now.date())) if page.contract_id else []
    return render_member("portal/graph.html", page, title=gettext("使用量・請求金額のグラフ"), rows=rows, charts=charts,
                         bimonthly=_cycle(page) == "bimonthly",
                         comparison=_household_comparison(page, rows[-1].billing_month, rows[-1].usage) if rows else None,
                         days=days, daily=daily_chart(days) if days else None)


def _household_comparison(page: MemberPage, billing_month: str, usage_m3: int) -> Comparison | None:
    """同じ人数の世帯の平均 for the selected contract's bill of ``billing_month`` (None: no household
    size known or the city does not compare; one statement)."""
    if page.selected is None:
        return None
    return comparison_for(page.tenant, page.selected.contract, billing_month, usage_m3)


def _cycle(page: MemberPage) -> str:
    return contract_cycle(page.tenant.settings, page.selected.contract if page.selected else None)


@portal.get("/bills")
@login_required
def bills():
    """⑤ 料金明細: up to two years of bills of the selected contract, newest first."""
    page = member_page()
    history = queries.recent_bills(page.contract_id, _cycle(page)) if page.shows_data else []
    return render_member("portal/bills.html", page, title=gettext("料金明細"), bills=history)


def _member_bill(page: MemberPage, bill_id: int):
    found = queries.member_bill(page.member.id, bill_id)
    if found is None:
        abort(404)
    return found


@portal.get("/bills/<bigint:bill_id>")
@login_required
def bill(bill_id: int):
    """One bill: readings, meter, charges; 404 unless it is a bill of one of the member's contracts."""
    page = member_page()
    found = _member_bill(page, bill_id) if page.visible_from is None else (None, None)
    facts = invoice_facts(page.tenant.settings, found[1], found[0]) if found[0] else None
    versions = bill_versions(bill_id) if found[0] else []
    return render_member("portal/bill.html", page, title=gettext("料金明細の詳細"), bill=found[0], contract=found[1],
                         facts=facts, versions=versions)


@portal.get("/bills/<bigint:bill_id>/pdf")
@login_required
def bill_document(bill_id: int):
    """⑥ The 検針票・請求書 of one bill as issued (its newest version): the same bytes on
    every download; 404 until the worker has issued it."""
    page = member_page()
    found = member_bill_document(page.member.id, bill_id=bill_id) if page.visible_from is None else None
    return _issued_download(found)


def _issued_download(found):
    if found is None:
        abort(404)
    return private_download(found.data, found.filename, "application/pdf")


@portal.get("/bill-documents/<bigint:issued_id>")
@login_required
def issued_document(issued_id: int):
    """One issued version of a bill's PDF (an older one is 訂正前), as stored."""
    page = member_page()
    return _issued_download(member_bill_document(page.member.id, issued_id)
                            if page.visible_from is None else None)


DOCUMENTS_PER_PAGE = 30
MAX_DOCUMENT_PAGE = 10_000  # a bigger ?page= is this one (an offset the database can take)


@portal.get("/documents")
@login_required
def documents():
    """⑥ 書類ダウンロード: a PDF per bill, and the notices the city issued to this customer."""
    page = member_page()
    form = DocumentSearchForm(request.args, issuers=issuer_choices(page.tenant))
    number = min(max(request.args.get("page", 1, type=int), 1), MAX_DOCUMENT_PAGE)  # ?page=abc: the first
    found, issued, status, more = [], [], 200, False
    if page.shows_data:
        issued = contract_documents(page.contract_id)
        if form.validate():
            found = search_documents([page.contract_id], **form.criteria(), limit=DOCUMENTS_PER_PAGE + 1,
                                     offset=(number - 1) * DOCUMENTS_PER_PAGE)
            more, found = len(found) > DOCUMENTS_PER_PAGE, found[:DOCUMENTS_PER_PAGE]
        else:
            status = 422
    filters = {key: value for key, value in request.args.items() if key != "page"}  # kept in the page links
    return render_member("portal/documents.html", page, title=gettext("書類ダウンロード"), found=found, issued=issued,
                         form=form, searched=bool(filters),
                         first=(number - 1) * DOCUMENTS_PER_PAGE + 1,
                         previous_url=url_for("portal.documents", **filters, page=number - 1) if number > 1 else None,
                         next_url=url_for("portal.documents", **filters, page=number + 1) if more else None), status


@portal.get("/documents/<bigint:document_id>")
@login_required
def document(document_id: int):
    """Download a document the city issued; 404 unless it belongs to one of the member's contracts."""
    page = member_page()
    found = queries.member_document(page.member.id, document_id) if page.visible_from is None else None
    if found is None:
        abort(404)
    return private_download(found.data, found.download_name, found.content_type)
