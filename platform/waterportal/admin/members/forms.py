"""Forms of 会員サポート, 取り込み and お問い合わせ (Japanese messages next to each field)."""
from __future__ import annotations

import unicodedata

from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import AnyOf, Length, StopValidation, ValidationError

from waterportal.admin.forms import Required
from waterportal.admin.members.services import SEARCH_KINDS, search_term
from waterportal.core.forms import ConsoleForm, labelled_choices
from waterportal.core.text import is_katakana

IMPORT_KINDS = {
    "contracts": "契約(contracts.csv)",
    "bills": "請求・検針(bills.csv)",
    "readings": "日ごとの使用量(スマートメーター、readings.csv)",
    "documents": "書類(documents.csv とファイルをまとめた ZIP)",
}
INQUIRY_FILTERS = {"": "すべて", "new": "未対応", "answered": "回答済み"}


class MemberSearchForm(ConsoleForm):
    """会員の検索 (GET: no CSRF token; it changes nothing)."""

    class Meta:
        csrf = False

    kind = SelectField("検索項目", choices=labelled_choices(SEARCH_KINDS), default="customer_number",
                       validate_choice=False, validators=[AnyOf(list(SEARCH_KINDS), message="検索項目を選択してください。")])
    q = StringField("検索する値", validators=[Required("検索する値を入力してください。"),
                                          Length(max=254, message="254文字以内で入力してください。")])

    def validate_q(self, field) -> None:
        """Refuse what can never match, saying why (the same normalisation as the search)."""
        kind = self.kind.data
        if kind not in SEARCH_KINDS:
            return
        term = search_term(kind, field.data)
        if kind == "customer_number" and not term.isdigit():
            raise ValidationError("お客様番号は数字で入力してください(ハイフン・全角数字も使えます)。")
        if kind == "kana" and not is_katakana(term):
            raise ValidationError("お客様氏名カナはカタカナまたはひらがなで入力してください。")
        if kind == "login_id" and not term:
            raise ValidationError("ログインIDを入力してください。")
        if kind == "email" and len(term) < 3:
            raise ValidationError("メールアドレスは3文字以上入力してください。")


def _filename_ok(name: str, allowed: tuple[str, ...]) -> bool:
    name = unicodedata.normalize("NFKC", name or "").lower()
    return name.endswith(allowed)


class ImportUploadForm(ConsoleForm):
    """取り込み: the kind of export and its file (size and content checked in admin.uploads)."""

    kind = RadioField("取り込むデータ", choices=labelled_choices(IMPORT_KINDS), validate_choice=False, validators=[
        Required("取り込むデータを選択してください。"), AnyOf(list(IMPORT_KINDS), message="取り込むデータを選択してください。"),
    ])
    file = FileField("ファイル")

    def validate_file(self, field) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise StopValidation("ファイルを選択してください。")
        expected = (".zip",) if self.kind.data == "documents" else (".csv",)
        if self.kind.data in IMPORT_KINDS and not _filename_ok(upload.filename, expected):
            kind = "ZIP ファイル (.zip)" if expected == (".zip",) else "CSV ファイル (.csv)"
            raise ValidationError(f"{IMPORT_KINDS[self.kind.data]}は{kind}を選択してください。")


class InquiryFilterForm(ConsoleForm):
    """お問い合わせ一覧の絞り込み (GET)."""

    class Meta:
        csrf = False

    status = SelectField("状態", choices=labelled_choices(INQUIRY_FILTERS), default="", validate_choice=False,
                         validators=[AnyOf(list(INQUIRY_FILTERS), message="状態を選択してください。")])
