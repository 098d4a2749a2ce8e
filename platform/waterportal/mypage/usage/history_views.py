"""Route of ``portal`` for My data (issue 14 §5): a linked contract's two years of bills as CSV.

A GET download (the bill list and the graph link to it for the selected contract): only a
contract the member is linked to, in this city, once its data may be shown; anything else is
404. ``?encoding=shift_jis`` asks for Shift_JIS, the default is UTF-8 with a BOM; another value
is 400. ``no-store`` and an attachment name with an ASCII fallback (core.files.private_download).
"""
from __future__ import annotations

from flask import abort, request
from flask_login import login_required

from waterportal.billing.history import ENCODINGS, history_csv, history_filename, member_history
from waterportal.core.files import private_download
from waterportal.mypage.usage.blueprint import portal
from waterportal.mypage.usage.views import member_page


@portal.get("/bills/history/<bigint:contract_id>.csv")
@login_required
def history_download(contract_id: int):
    """使用量・請求の履歴(CSV) of one of the member's contracts."""
    encoding = request.args.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        abort(400)
    page = member_page()
    today = page.now.date()
    found = member_history(page.member.id, contract_id, today) if page.visible_from is None else None
    if found is None:
        abort(404)
    contract, bills = found
    response = private_download(history_csv(page.tenant, contract, bills, encoding), history_filename(contract, today),
                                "text/csv")
    response.content_type = f"text/csv; charset={ENCODINGS[encoding][1]}"  # the file's own, not Flask's utf-8
    return response
