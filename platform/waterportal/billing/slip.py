"""電子納付書 (issue 12 §4): the convenience-store barcode of an unpaid bill.

The billing system sends the 44 digits of the 収納代行 data (the bills import's optional
``payment_barcode`` column); the portal never makes them up, it checks them and draws them.
The layout is the GS1-128 標準料金代理収納 one (GS1 Japan's guideline), 44 digits:

====  ======  ================================================================
 at   digits  field
====  ======  ================================================================
  0      2    AI ``91`` (the application identifier used for 料金代理収納)
  2      6    請求書発行企業コード (the GS1 company prefix without its leading 4)
  8     21    自由使用欄 (the issuer's own reference: customer number, month, ...)
 29      1    再発行区分
 30      6    支払期限 ``YYMMDD``
 36      1    印紙フラグ (0: no 収入印紙 needed, 1: needed)
 37      6    支払金額 in yen (at most 999,999)
 43      1    check digit: modulus 10, weights 3 and 1 alternating from the rightmost of
              the 43 digits before it (weight 3 on that one), AI included; 10 minus the
              sum's last digit (0 when that is 0)
====  ======  ================================================================

The bar code is Code 128 with FNC1 after the start character (that is what makes it
GS1-128) and the 44 digits in code set C; reportlab draws it (``Code128``, FNC1 as
``\\xf1``) for the page (SVG) and the PDF.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm

LENGTH = 44
AI = "91"
FNC1 = "\xf1"
AMOUNT_MAX = 999_999


@dataclass(frozen=True)
class SlipBarcode:
    """The fields of valid 収納代行 data."""

    digits: str
    company: str
    reference: str
    reissue: str
    due_date: dt.date
    stamp: bool
    amount: int

    @property
    def lines(self) -> tuple[str, str]:
        """The human-readable text printed under the bars, in two lines as the guideline shows it."""
        return (f"({self.digits[:2]}){self.digits[2:8]}-{self.digits[8:29]}-{self.digits[29]}",
                f"-{self.digits[30:36]}-{self.digits[36]}-{self.digits[37:43]}-{self.digits[43]}")


def check_digit(digits43: str) -> str:
    """Modulus 10, weights 3, 1, 3, ... from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits43)))
    return str((10 - total % 10) % 10)


def make_barcode(company: str, reference: str, due_date: dt.date, amount: int, *, reissue: int = 0,
                 stamp: bool = False) -> str:
    """The 44 digits of a bill (what a billing system computes; the demo uses it)."""
    body = f"{AI}{company:0>6}{reference:0<21}{reissue}{due_date:%y%m%d}{int(stamp)}{amount:06d}"
    if len(body) != LENGTH - 1 or not body.isdigit():
        raise ValueError(f"not a 収納代行 barcode body: {body!r}")
    return body + check_digit(body)


def parse(digits: str) -> SlipBarcode | None:
    """The fields of 44 digits whose AI and check digit are right (else None; see :func:`problems`)."""
    if problems(digits):
        return None
    return _fields(digits)


def _fields(digits: str) -> SlipBarcode:
    return SlipBarcode(digits, digits[2:8], digits[8:29], digits[29],
                       dt.date(2000 + int(digits[30:32]), int(digits[32:34]), int(digits[34:36])),
                       digits[36] == "1", int(digits[37:43]))


def problems(digits: str, *, total: int | None = None, due_date: dt.date | None = None) -> list[str]:
    """What is wrong with ``digits`` as the 収納代行 data of a bill of ``total`` due on
    ``due_date`` (each check named; empty when it is right)."""
    if len(digits) != LENGTH or not (digits.isdigit() and digits.isascii()):
        return [f"収納代行バーコードは{LENGTH}桁の数字で入力してください ({len(digits)}桁)"]
    found = []
    if not digits.startswith(AI):
        found.append(f"収納代行バーコードの先頭はアプリケーション識別子 {AI} です ({digits[:2]})")
    if check_digit(digits[:-1]) != digits[-1]:
        found.append(f"収納代行バーコードのチェックデジットが違います ({digits[-1]}、正しくは {check_digit(digits[:-1])})")
    try:
        fields = _fields(digits)
    except ValueError:
        return [*found, f"収納代行バーコードの支払期限 {digits[30:36]} が日付ではありません"]
    if digits[36] not in "01":
        found.append(f"収納代行バーコードの印紙フラグは 0 か 1 です ({digits[36]})")
    if total is not None and fields.amount != total:
        found.append(f"収納代行バーコードの金額 {fields.amount} が請求金額 {total} と一致しません")
    if due_date is not None and fields.due_date != due_date:
        found.append(f"収納代行バーコードの支払期限 {fields.due_date.isoformat()} が納期限 {due_date.isoformat()} と一致しません")
    return found


def barcode_drawing(digits: str, width_mm: float = 60) -> Drawing:
    """The GS1-128 bars of ``digits`` as a reportlab drawing (FNC1, then code set C), about
    ``width_mm`` wide (the guideline's 60 mm for store scanners), quiet zones included, no text."""
    value = FNC1 + digits
    probe = Code128(value, barWidth=1, quiet=True, lquiet=10, rquiet=10)
    probe.validate()
    probe.encode()
    probe.decompose()
    probe.computeSize()
    module = (width_mm * mm) / probe.width  # one module's width that makes the whole width_mm
    return createBarcodeDrawing("Code128", value=value, barWidth=module, barHeight=12 * mm, quiet=True,
                                lquiet=10 * module, rquiet=10 * module, humanReadable=False)


def barcode_svg(digits: str) -> str:
    """The bars as an SVG document (for the 電子納付書 page; a phone's screen can be scanned)."""
    return renderSVG.drawToString(barcode_drawing(digits))
