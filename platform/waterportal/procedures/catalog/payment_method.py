"""口座振替の申込・支払方法の変更 (``payment_method``): pay the water bill by 口座振替 from a
bank or ゆうちょ account, change the account, or stop 口座振替 and pay by 納付書.

The bank and branch are typed by name, kana or code (the form suggests them; without
JavaScript an ambiguous name comes back with the candidates to pick from) and checked
against the 全銀 codes (``procedures/banks.py``). ゆうちょ銀行 takes its 記号・番号, kept
as typed and converted to the branch and 7-digit number other banks use. The holder's
name is stored as the half-width kana the bank prints (``procedures/kana.py``).

The account number (and ゆうちょ's 番号) are ``sensitive``: stored encrypted, shown as
``****567``, decrypted only for the billing system's export. A real 口座振替 needs the
bank's confirmation: the receipt page offers the prefilled 口座振替依頼書 (PDF) to sign,
stamp and post.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from waterportal.procedures import banks
from waterportal.procedures.fields import Choice, Text, display_value
from waterportal.procedures.kana import MAX_LENGTH, bank_kana, refused_message
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register
from waterportal.tenancy.context import TenantContext

KEY = "payment_method"
# The choices are stored as shown (the receipt, the staff and the CSV read the same words).
DEBIT, SLIP = "口座振替（新規の申込み・口座の変更）", "納付書（口座振替をやめる）"
METHODS = (DEBIT, SLIP)
PICK_AGAIN = _l("候補の一覧から選び直してください。")  # lazy: read in the page's language
ACCOUNT_TYPES = {"普通": "1", "当座": "2", "貯蓄": "4"}
# The fields of the bank account, emptied when the citizen chose 納付書.
ACCOUNT_FIELDS = ("bank_code", "bank_name", "branch_code", "branch_name", "account_type", "account_type_code",
                  "account_number", "holder_kana", "yucho_symbol", "yucho_number")


class PaymentMethodSchema(Schema):
    # Checked in ``check`` (not required here), so 「金融機関・支店を確認」 works before it is chosen.
    method = Choice("お支払方法", METHODS, required=False)
    # Required for 口座振替 only (check): empty is fine for 納付書.
    bank = Text("金融機関", required=False, max_length=60)
    bank_pick = fields.String(load_default="", validate=validate.Length(max=10, error=PICK_AGAIN))  # a candidate
    branch = Text("支店", required=False, max_length=60)
    branch_pick = fields.String(load_default="", validate=validate.Length(max=10, error=PICK_AGAIN))
    yucho_symbol = Text("記号", required=False, max_length=20)
    yucho_number = Text("番号", required=False, max_length=20)
    account_type = Text("預金種目", required=False, max_length=10)
    account_number = Text("口座番号", required=False, max_length=20)
    holder_kana = Text("口座名義（カナ）", required=False, max_length=120)
    # 「金融機関・支店を確認」 (the form's search without JavaScript): check, never file.
    lookup = fields.String(load_default="", validate=validate.Length(max=10, error=PICK_AGAIN))


def _account(data: dict[str, Any]) -> dict[str, list[str]]:
    """Resolve and convert the account fields of ``data`` in place; the errors by field."""
    errors: dict[str, list[str]] = {}
    found = banks.resolve_bank(data["bank"], data.get("bank_pick"))
    bank = found.found
    if bank is None:
        errors["bank"] = [found.error or gettext("金融機関を確認してください。")]
    else:
        data.update(bank=bank.label, bank_code=bank.code, bank_name=bank.name)
    if bank is not None and bank.code == banks.YUCHO:
        yucho, problems = banks.yucho_account(data["yucho_symbol"], data["yucho_number"])
        errors.update({f"yucho_{field}": [message] for field, message in problems.items()})
        if yucho is not None:
            branch = bank.branches[yucho.branch_code]
            data.update(
                branch="", branch_code=branch.code, branch_name=branch.name,
                account_type=banks.ACCOUNT_TYPES[yucho.account_type], account_type_code=yucho.account_type,
                account_number=yucho.account_number, yucho_symbol=yucho.symbol, yucho_number=yucho.number,
            )
    elif bank is not None:
        data.update(yucho_symbol="", yucho_number="")
        branch = banks.resolve_branch(bank, data["branch"], data.get("branch_pick"))
        if branch.found is None:
            errors["branch"] = [branch.error or gettext("支店を確認してください。")]
        else:
            data.update(branch=f"{branch.found.code} {branch.found.name}", branch_code=branch.found.code,
                        branch_name=branch.found.name)
        if data["account_type"] not in ACCOUNT_TYPES:
            errors["account_type"] = [gettext("預金種目を選択してください。")]
        else:
            data["account_type_code"] = ACCOUNT_TYPES[data["account_type"]]
        number, problem = banks.account_number(data["account_number"])
        if problem:
            errors["account_number"] = [problem]
        else:
            data["account_number"] = number
    holder = bank_kana(data["holder_kana"])
    if not holder.value:
        errors["holder_kana"] = [gettext("口座名義をカタカナで入力してください。")]
    elif holder.refused:
        errors["holder_kana"] = [refused_message(holder.refused)]
    elif not holder.ok:
        errors["holder_kana"] = [gettext("口座名義は半角に直して%(max)s文字以内です（濁点・半濁点も1文字）。", max=MAX_LENGTH)]
    else:
        data["holder_kana"] = holder.value
    return errors


def _lookup(data: dict[str, Any]) -> dict[str, list[str]]:
    """「金融機関・支店を確認」: what is wrong with the typed bank and branch, or that both
    were found (the form then shows them, and the candidates of an ambiguous name)."""
    found = banks.resolve_bank(data["bank"], data.get("bank_pick"))
    if found.found is None:
        return {"bank": [found.error or gettext("金融機関を確認してください。")]}
    names = found.found.name
    if found.found.code != banks.YUCHO and data["branch"]:
        branch = banks.resolve_branch(found.found, data["branch"], data.get("branch_pick"))
        if branch.found is None:
            return {"branch": [branch.error or gettext("支店を確認してください。")]}
        names += f" {branch.found.name}"
    return {"_form": [gettext("「%(names)s」を確認しました。残りの項目を入力して「申し込む」を押してください。", names=names)]}


def check(ctx: KindContext, data: dict[str, Any]) -> None:  # noqa: ARG001 - the registry's hook signature
    """口座振替: the bank, branch (or ゆうちょ's 記号・番号), type, number and holder must
    name a real account; 納付書: no account is kept."""
    if data.pop("lookup", ""):
        raise ProcedureInvalid(_lookup(data))
    if not data["method"]:
        raise ProcedureInvalid({"method": [gettext("お支払方法を選択してください。")], **_account(data)})
    if data["method"] == SLIP:
        data.update(dict.fromkeys(("bank", "branch", *ACCOUNT_FIELDS), ""))
        errors = {}
    else:
        errors = _account(data)
    # The picks only choose among candidates: what was chosen is in bank_code/branch_code.
    data.pop("bank_pick", None)
    data.pop("branch_pick", None)
    if errors:
        raise ProcedureInvalid(errors)


def summary(tenant: TenantContext, shown: dict[str, Any]) -> list[tuple[str, str]]:  # noqa: ARG001
    """The receipt's rows: the method, then the account with its number masked."""
    method = shown.get("method", "")
    rows = [("お支払方法", display_value(method, METHODS))]
    if method != DEBIT:
        return rows
    rows.append(("金融機関", f"{shown.get('bank_name', '')}（{shown.get('bank_code', '')}）"))
    if shown.get("yucho_symbol"):
        rows += [("記号", shown["yucho_symbol"]), ("番号", shown.get("yucho_number", ""))]
    else:
        rows += [
            ("支店", f"{shown.get('branch_name', '')}（{shown.get('branch_code', '')}）"),
            ("預金種目", display_value(shown.get("account_type", ""), ACCOUNT_TYPES)),
            ("口座番号", shown.get("account_number", "")),
        ]
    rows.append(("口座名義（カナ）", shown.get("holder_kana", "")))
    return rows


register(ProcedureKind(
    KEY, "口座振替の申込・支払方法の変更", PaymentMethodSchema,
    needs_contract=True, sensitive=("account_number", "yucho_number"), check=check, summary=summary,
    csv_columns=(
        ("支払方法", "method"), ("金融機関コード", "bank_code"), ("金融機関名", "bank_name"),
        ("支店コード", "branch_code"), ("支店名", "branch_name"), ("預金種目コード", "account_type_code"),
        ("口座番号", "account_number"), ("口座名義カナ", "holder_kana"),
        ("ゆうちょ記号", "yucho_symbol"), ("ゆうちょ番号", "yucho_number"),
    ),
    description="上下水道料金の口座振替を申し込む、引き落とし口座を変える、口座振替をやめて納付書で支払う。",
    order=50,
))
