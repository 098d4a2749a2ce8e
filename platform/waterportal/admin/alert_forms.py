"""The area-alert form of the staff console (地区別のお知らせ: 断水・濁水・工事). Times are typed
in the city's time zone; the areas come from the city's contract addresses or a pasted list."""
from __future__ import annotations

from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from waterportal.alerts.services import KINDS, MAX_AREAS, AreaChoice, resolve_areas
from waterportal.core.forms import ConsoleForm, labelled_choices
from waterportal.core.time import city_to_utc, utcnow_naive
from waterportal.notices.forms import TIME_MESSAGE, OtherLanguages, TitleAndText, other_language_fields, parse_local


class AreaAlertForm(OtherLanguages, TitleAndText, ConsoleForm):
    """種類, タイトル, 本文, the optional title and body in English and やさしい日本語 for the
    languages the city offers (:class:`OtherLanguages`), 期間 (開始・終了), 対象の地区 (list
    and/or pasted lines)."""

    kind = RadioField("種類", validate_choice=False)
    title = StringField("タイトル")
    body = TextAreaField("本文")
    title_en, body_en, title_easy, body_easy = other_language_fields()
    starts_at = StringField("開始日時")
    ends_at = StringField("終了日時")
    areas = SelectMultipleField("対象の地区(町名・丁目)", validate_choice=False)
    pasted = TextAreaField("対象の地区を貼り付け(1行に1つ)")

    def __init__(self, choices: list[AreaChoice], tz_name: str, **kwargs):
        super().__init__(**kwargs)
        self.choices, self.tz_name = choices, tz_name
        self.kind.choices = labelled_choices({kind: str(name) for kind, name in KINDS.items()})
        self.areas.choices = [(choice.area, choice.area) for choice in choices]
        self.chosen: list[str] = []

    def validate_kind(self, field) -> None:
        if field.data not in KINDS:
            raise StopValidation("種類を選択してください。")

    def validate_starts_at(self, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation("開始日時を入力してください。")
        if parse_local(field.data) is None:
            raise ValidationError(TIME_MESSAGE)

    def validate_ends_at(self, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation("終了日時を入力してください。")
        end = parse_local(field.data)
        if end is None:
            raise ValidationError(TIME_MESSAGE)
        start = parse_local(self.starts_at.data)
        if start is not None and end <= start:
            raise ValidationError("終了日時は開始日時より後にしてください。")
        if city_to_utc(end, self.tz_name) <= utcnow_naive():
            raise ValidationError("終了日時が過ぎています。これから先の日時を入力してください。")

    def validate_pasted(self, field) -> None:
        field.data = (field.data or "").replace("\r\n", "\n")
        Length(max=20000, message="貼り付けは20000文字以内にしてください。")(self, field)
        chosen, problems = resolve_areas(self.choices, self.areas.data or [], field.data)
        if problems:
            raise ValidationError(" ".join(problems[:10]) + (f" ほか{len(problems) - 10}行" if len(problems) > 10 else ""))
        self.chosen = chosen

    def validate_areas(self, field) -> None:
        known = {choice.area for choice in self.choices}
        unknown = [area for area in field.data or [] if area not in known]
        if unknown:
            raise StopValidation(f"一覧にない地区です: {unknown[0][:40]}")
        if not field.data and not (self.pasted.data or "").strip():
            raise StopValidation("対象の地区を一覧から選ぶか、貼り付けてください。")
        if len(field.data or []) > MAX_AREAS:
            raise StopValidation(f"対象の地区は{MAX_AREAS}件までです。")

    def values(self) -> dict:
        """The validated values for alerts.services.publish_alert (times converted to UTC)."""
        return {
            "kind": self.kind.data, "title": self.title.data, "body": self.body.data,
            "starts_at": city_to_utc(parse_local(self.starts_at.data), self.tz_name),
            "ends_at": city_to_utc(parse_local(self.ends_at.data), self.tz_name),
            "areas": self.chosen,
            "texts": self.texts(),
        }
