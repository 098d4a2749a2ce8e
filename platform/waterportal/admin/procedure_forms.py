"""Forms of 各種お手続き in the console: the queue's filters, a status change, an assignment,
the export to the billing system (Japanese messages next to each field)."""
from __future__ import annotations

import datetime as dt

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional, StopValidation, ValidationError

from waterportal.admin.forms import Required
from waterportal.core.forms import ConsoleForm, labelled_choices
from waterportal.core.text import digits_only
from waterportal.procedures.kinds import ordered
from waterportal.procedures.models import OPEN_STATUSES, STATUS_LABELS, STATUS_RETURNED

DATE_MESSAGE = "日付は 2026-04-01 の形式で入力してください。"
ASSIGNEE_FILTERS = {"": "すべて", "me": "自分が担当", "none": "担当者が未定"}
MESSAGE_MAX = 2000


def kind_choices(with_all: bool = True) -> list:
    """``(kind, label)`` of every procedure the platform knows, in menu order (a city's
    disabled kinds included: their past requests stay in the queue)."""
    return labelled_choices(([("", "すべて")] if with_all else []) + [(kind.key, kind.label) for kind in ordered()])


def _known_kind(_form, field) -> None:
    if field.data and field.data not in {kind.key for kind in ordered()}:
        raise StopValidation("種類を選択してください。")


def parse_date(value: str | None) -> dt.date | None:
    """``2026-04-01`` / ``2026/4/1`` / full-width digits -> date; None when empty or not a date."""
    text = (value or "").strip().translate(str.maketrans("０１２３４５６７８９／－", "0123456789/-")).replace("/", "-")
    if not text:
        return None
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return dt.date(year, month, day)
    except (TypeError, ValueError):
        return None


class _DateRange:
    """Two optional date fields ``date_from`` / ``date_to`` checked together."""

    def validate_date_from(self, field) -> None:
        if field.data and parse_date(field.data) is None:
            raise ValidationError(DATE_MESSAGE)

    def validate_date_to(self, field) -> None:
        if field.data and parse_date(field.data) is None:
            raise ValidationError(DATE_MESSAGE)
        start, end = parse_date(self.date_from.data), parse_date(field.data)  # type: ignore[attr-defined]
        if start and end and end < start:
            raise ValidationError("終了日は開始日以降の日付を入力してください。")

    @property
    def start(self) -> dt.date | None:
        return parse_date(self.date_from.data)  # type: ignore[attr-defined]

    @property
    def end(self) -> dt.date | None:
        return parse_date(self.date_to.data)  # type: ignore[attr-defined]


class ProcedureFilterForm(_DateRange, ConsoleForm):
    """The queue's filters (GET: no CSRF token, it changes nothing). ``status`` ``open``
    (the default) is every status still waiting for someone: 受付, 処理中, 差戻し."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()

    kind = SelectField("種類", default="", validate_choice=False, validators=[Optional(), _known_kind])
    status = SelectField("状態", choices=labelled_choices([("open", "未完了(" + "・".join(STATUS_LABELS[s] for s in OPEN_STATUSES) + ")"),
                                                   ("", "すべて"),
                                                   *STATUS_LABELS.items()]),
                         default="open", validate_choice=False,
                         validators=[Optional(), AnyOf(["open", *STATUS_LABELS], message="状態を選択してください。")])
    assignee = SelectField("担当者", choices=labelled_choices(list(ASSIGNEE_FILTERS.items())), default="", validate_choice=False,
                           validators=[Optional(), AnyOf(list(ASSIGNEE_FILTERS), message="担当者を選択してください。")])
    date_from = StringField("受付日(開始)", validators=[Optional()])
    date_to = StringField("受付日(終了)", validators=[Optional()])
    receipt_number = StringField("受付番号", validators=[Optional(), Length(max=30, message="30文字以内で入力してください。")])
    customer_number = StringField("お客様番号", validators=[Optional(), Length(max=40, message="40文字以内で入力してください。")])

    def validate_customer_number(self, field) -> None:
        if field.data and not digits_only(field.data):
            raise ValidationError("お客様番号は数字で入力してください(ハイフン・全角数字も使えます)。")


class StatusChangeForm(ConsoleForm):
    """状態の変更: the new status and the message the citizen reads (required for 差戻し)."""

    status = SelectField("新しい状態", choices=labelled_choices(list(STATUS_LABELS.items())), validate_choice=False,
                         validators=[Required("新しい状態を選択してください。"),
                                     AnyOf(list(STATUS_LABELS), message="新しい状態を選択してください。")])
    message = TextAreaField("お客さまへのメッセージ", validators=[
        Length(max=MESSAGE_MAX, message=f"{MESSAGE_MAX:,}文字以内で入力してください。"),
    ])

    def validate_message(self, field) -> None:
        if self.status.data == STATUS_RETURNED and not (field.data or "").strip():
            raise ValidationError("差戻しの理由(お客さまに直していただく内容)を入力してください。")


class AssignForm(ConsoleForm):
    """担当者: a staff member of the city, or nobody (the choices are set by the view)."""

    assignee = SelectField("担当者", validate_choice=False)


class ExportForm(_DateRange, ConsoleForm):
    """料金システムへの出力: one kind, new rows only or a range again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices(with_all=False)

    kind = SelectField("種類", validate_choice=False, validators=[Required("種類を選択してください。"), _known_kind])
    again = SelectField("出力する申請", choices=labelled_choices([("new", "まだ出力していない申請"),
                                                         ("again", "期間内の申請をもう一度(出力済みを含む)")]),
                        default="new", validate_choice=False,
                        validators=[AnyOf(["new", "again"], message="出力する申請を選択してください。")])
    date_from = StringField("受付日(開始)", validators=[Optional()])
    date_to = StringField("受付日(終了)", validators=[Optional()])

    def validate_again(self, field) -> None:
        if field.data == "again" and not (self.date_from.data and self.date_to.data):
            raise ValidationError("もう一度出力するときは、受付日の開始日と終了日を入力してください。")
