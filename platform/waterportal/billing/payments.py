"""Payment details of a bill (issue 12 §3): how it is paid, the bank's 口座振替 result and
the 通信欄, as the bills import stores them (docs/import-formats.md).

The result is the 全銀協 振替結果コード exactly as the bank's result file carries it
(全銀協規定形式, 預金口座振替 データ・レコード): 0 振替済 and, for 振替不能, the reason.
A code not in :data:`TRANSFER_RESULTS` is an import error, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from waterportal.billing.models import Bill

# The import's payment_method values (as the billing system writes them).
METHODS = ("口座振替", "納付書", "クレジット", "スマホ決済")
# The payment-result import's channels (how a collector reports a payment).
CHANNELS = ("口座振替", "納付書", "コンビニ", "スマホ決済", "クレジット", "窓口", "オンライン決済")
# The same words for the catalogues: the pages show the stored word through the ``shown``
# filter (core/i18n.py) in the citizen's language.
WORDS = (_l("口座振替"), _l("納付書"), _l("クレジット"), _l("スマホ決済"), _l("コンビニ"), _l("窓口"), _l("オンライン決済"))
TRANSFERRED = "0"
# 全銀協 振替結果コード -> its meaning.
TRANSFER_RESULTS = {
    "0": "振替済",
    "1": "資金不足",
    "2": "取引なし",
    "3": "預金者の都合による振替停止",
    "4": "預金口座振替依頼書なし",
    "8": "委託者の都合による振替停止",
    "9": "その他",
}
# The same meanings in the citizen's language (pages and mail; the table above is the
# import's and the console's, in Japanese).
REASONS = {
    "1": _l("資金不足"),
    "2": _l("取引なし"),
    "3": _l("預金者の都合による振替停止"),
    "4": _l("預金口座振替依頼書なし"),
    "8": _l("委託者の都合による振替停止"),
    "9": _l("その他"),
}
# What the citizen can do after each 振替不能 reason (the dashboard and the bill page say it).
WHAT_TO_DO = {
    "1": _l("口座の残高が不足していたため引き落とせませんでした。"),
    "2": _l("口座が解約されているか、口座の情報が一致しませんでした。"),
    "3": _l("金融機関で口座振替が停止されています。"),
    "4": _l("口座振替の手続きが金融機関で完了していません。"),
    "8": _l("市の都合により口座振替を停止しています。"),
    "9": _l("口座振替ができませんでした。"),
}


@dataclass(frozen=True)
class TransferFailure:
    """A 振替不能 bill: the bank's code, its meaning and what the citizen should do (both in
    the language of the page or mail that shows them)."""

    code: str
    reason: str
    advice: str


def transfer_failure(bill: Bill) -> TransferFailure | None:
    """The 振替不能 of an unpaid bill, or None (paid, not by 口座振替, or transferred)."""
    code = bill.transfer_result
    if bill.paid_on is not None or code is None or code == TRANSFERRED or code not in TRANSFER_RESULTS:
        return None
    return TransferFailure(code, str(REASONS[code]), str(WHAT_TO_DO[code]))


def transfer_status(bill: Bill) -> str:
    """「振替済」「振替不能(資金不足)」 (in the page's language), or "" when the bank has reported nothing."""
    code = bill.transfer_result
    if code is None or code not in TRANSFER_RESULTS:
        return ""
    return gettext("振替済") if code == TRANSFERRED else gettext("振替不能(%(reason)s)", reason=REASONS[code])
