"""Helpers of the 口座振替 and ペーパーレス pages on blueprint ``procedures``: the bank and
branch suggestions (JSON, for the form's script), the candidates the form shows without
JavaScript, the member's 口座振替依頼書 (PDF), each contract's 検針票 state and the month a
change applies from, and the template a kind adds to its receipt and detail pages.

The suggestions are public data (the 全銀 codes), at most :data:`banks.SEARCH_LIMIT` per
answer. The PDF is the member's own request only, like its detail page.
"""
from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user
from jinja2 import Template, TemplateNotFound

from waterportal.core.files import private_download
from waterportal.procedures import banks, dates, paperless_state, services
from waterportal.procedures.blueprint import procedures
from waterportal.procedures.catalog.payment_method import ACCOUNT_TYPES
from waterportal.procedures.debit_pdf import debit_pdf, is_debit, sheet_filename, sheet_for
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.templating import city_template

QUERY_MAX = 60


def _bank_json(bank: banks.Bank) -> dict[str, str]:
    return {"code": bank.code, "name": bank.name, "kana": bank.kana, "label": bank.label}


@procedures.get("/banks")
def bank_search():
    """``?q=北海道`` -> ``{"banks": [{"code": "0116", "name": "北海道銀行", ...}]}``."""
    found = banks.search_banks(request.args.get("q", "")[:QUERY_MAX])
    return jsonify(banks=[_bank_json(b) for b in found])


@procedures.get("/banks/branches")
def branch_search():
    """``?bank=0116&q=名寄`` -> ``{"branches": [{"code": "704", "name": "名寄", ...}]}`` (the
    bank may be given as typed: ``0116 北海道銀行``)."""
    bank = banks.bank(banks.leading_code(request.args.get("bank", "")[:QUERY_MAX], 4))
    if bank is None:
        return jsonify(branches=[])
    found = banks.search_branches(bank, request.args.get("q", "")[:QUERY_MAX])
    return jsonify(branches=[{"code": b.code, "name": b.name, "kana": b.kana, "label": f"{b.code} {b.name}"}
                             for b in found])


@procedures.app_template_global("bank_lookup")
def bank_lookup(values: dict[str, Any]) -> dict[str, Any]:
    """What the 口座振替 form shows next to the typed bank and branch: the candidates of an
    ambiguous name (a select), so the form works without JavaScript."""
    result: dict[str, Any] = {"banks": [], "branches": [], "yucho": False, "found": ""}
    text = str(values.get("bank", "") or "")[:QUERY_MAX]
    if not text.strip():
        return result
    found = banks.resolve_bank(text, str(values.get("bank_pick", "") or ""))
    result["banks"] = [(b.code, b.label) for b in found.candidates]
    if found.found is not None:
        result["yucho"] = found.found.code == banks.YUCHO
        result["found"] = found.found.label
        branch_text = str(values.get("branch", "") or "")[:QUERY_MAX]
        if branch_text.strip() and not result["yucho"]:
            branch = banks.resolve_branch(found.found, branch_text, str(values.get("branch_pick", "") or ""))
            result["branches"] = [(b.code, f"{b.code} {b.name}") for b in branch.candidates]
            if branch.found is not None:
                result["found"] += f" / {branch.found.code} {branch.found.name}"
    return result


@procedures.app_template_global("account_types")
def account_types() -> list[str]:
    """The 預金種目 the 口座振替 form offers (stored in Japanese, shown with ``_()``)."""
    return list(ACCOUNT_TYPES)


@procedures.app_template_global("has_debit_sheet")
def has_debit_sheet(filed) -> bool:
    """Whether a request's pages (the citizen's and the staff's) offer the 口座振替依頼書."""
    return is_debit(filed)


@procedures.app_template_global("paperless_overview")
def paperless_overview(contracts) -> list[tuple[Any, str, str]]:
    """The ペーパーレス form's table: each linked contract, its 検針票 now, and the billing
    month a change filed today applies from."""
    tenant = current_tenant()
    today = dates.city_today(tenant)
    found = paperless_state.states(tenant, [c.id for c in contracts])
    return [(contract, found[contract.id].text, paperless_state.shown_month(paperless_state.next_billing_month(
        tenant, paperless_state.latest_bill_month(contract.id), today))) for contract in contracts]


@procedures.app_template_global("kind_receipt_template")
def kind_receipt_template(kind_key: str) -> Template | None:
    """The city's ``procedures/kinds/<kind>_receipt.html`` (what a kind adds to its receipt and
    detail pages: the 口座振替依頼書 of ``payment_method``), or None for a kind without one."""
    try:
        return city_template(current_tenant(), f"procedures/kinds/{kind_key}_receipt.html")
    except TemplateNotFound:
        return None


@procedures.get("/<receipt_number>/debit.pdf")
def debit_sheet(receipt_number: str):
    """The member's 口座振替依頼書, prefilled, the account number masked."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    tenant = current_tenant()
    filed = services.get_for_member(tenant, current_user, receipt_number)
    if filed is None or not is_debit(filed):
        abort(404)
    sheet = sheet_for(tenant, filed)
    return private_download(debit_pdf(sheet), sheet_filename(sheet), "application/pdf")
