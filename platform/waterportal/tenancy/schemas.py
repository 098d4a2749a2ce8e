"""Typed, validated city settings: the schema of ``tenants/<slug>/tenant.toml``.

The defaults here are the platform defaults; the ``PLATFORM_FLOOR`` limits are the
floor a city may tighten but never weaken (password policy, code lifetime).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates, validates_schema

from waterportal.core.auth.passwords import FLOOR_MIN_LENGTH, MAX_LENGTH, MAX_LENGTH_AT_LEAST
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.invoice_numbers import ROUNDINGS, is_registration_number
from waterportal.core.time import closure_days, parse_hhmm
from waterportal.tenancy.branding import contrast_ratio
from waterportal.tenancy.hosts import normalise_host
from waterportal.tenancy.messages import japanese
from waterportal.tenancy.words import CUSTOMER_NUMBER_WORDS, PLACEHOLDERS, unknown_placeholders

PLATFORM_FLOOR = {
    # The password floor lives with the password policy (core/auth/passwords.py).
    "password_min_length": FLOOR_MIN_LENGTH,
    "password_max_length_at_least": MAX_LENGTH_AT_LEAST,
    "code_ttl_minutes_max": 60,
    "idle_timeout_minutes_max": 120,
    "staff_idle_timeout_minutes_max": 60,
}

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
SAFE_SYMBOLS = set("!?#$&()-_*+.,/:;<=>@[]^{}|~%'\"`\\")


class Section(Schema):
    """Unknown keys are errors: a typo in tenant.toml must not pass silently."""

    class Meta:
        unknown = RAISE


class LoginSchema(Section):
    mode = fields.String(required=True, validate=validate.OneOf(["email", "login_id"]))
    idle_timeout_minutes = fields.Integer(
        load_default=30, validate=validate.Range(5, PLATFORM_FLOOR["idle_timeout_minutes_max"])
    )
    remember_id_days = fields.Integer(load_default=365, validate=validate.Range(1, 730))
    login_id_min_length = fields.Integer(load_default=6, validate=validate.Range(4, 32))
    login_id_max_length = fields.Integer(load_default=20, validate=validate.Range(4, 64))


class RegistrationSchema(Section):
    code_ttl_minutes = fields.Integer(
        load_default=30, validate=validate.Range(5, PLATFORM_FLOOR["code_ttl_minutes_max"])
    )
    customer_number_digits = fields.Integer(load_default=11, validate=validate.Range(4, 20))
    # The name of the customer number on every citizen page and mail (tenancy/words.py).
    customer_number_label = fields.String(load_default=CUSTOMER_NUMBER_WORDS[0],
                                          validate=validate.OneOf(CUSTOMER_NUMBER_WORDS))
    data_visible_after_business_days = fields.Integer(load_default=1, validate=validate.Range(0, 30))
    relationships = fields.List(fields.String(), load_default=lambda: ["本人", "家族", "その他"])
    payment_methods = fields.List(fields.String(), load_default=lambda: ["アプリ決済に切り替えない"])
    # The 「支払方法」 choice that asks for 口座振替 (one of payment_methods, or none): the last
    # page of registration then offers the 口座振替 application (procedure payment_method).
    debit_payment_method = fields.String(load_default="")
    secret_questions = fields.List(
        fields.String(),
        load_default=lambda: ["母親の旧姓は?", "初めて飼ったペットの名前は?", "出身小学校の名前は?"],
    )

    @validates_schema
    def _debit_choice(self, data: dict[str, Any], **_: Any) -> None:
        choice = data.get("debit_payment_method")
        if choice and choice not in data.get("payment_methods", []):
            raise ValidationError({"debit_payment_method": ["payment_methods のいずれかを指定してください"]})


class PasswordPolicySchema(Section):
    min_length = fields.Integer(load_default=FLOOR_MIN_LENGTH)
    max_length = fields.Integer(load_default=MAX_LENGTH)
    require_upper = fields.Boolean(load_default=False)
    require_lower = fields.Boolean(load_default=False)
    require_digit = fields.Boolean(load_default=False)
    require_symbol = fields.Boolean(load_default=False)
    allowed_symbols = fields.String(load_default="!?#$&()-_")

    @validates("min_length")
    def _floor(self, value: int, **_: Any) -> None:
        if value < PLATFORM_FLOOR["password_min_length"]:
            raise ValidationError(f"プラットフォームの下限 {PLATFORM_FLOOR['password_min_length']} 文字より短くできません")

    @validates("max_length")
    def _max(self, value: int, **_: Any) -> None:
        if value < PLATFORM_FLOOR["password_max_length_at_least"]:
            raise ValidationError(f"{PLATFORM_FLOOR['password_max_length_at_least']} 文字以上を許可してください")

    @validates("allowed_symbols")
    def _symbols(self, value: str, **_: Any) -> None:
        bad = sorted(set(value) - SAFE_SYMBOLS)
        if bad or not value:
            raise ValidationError(f"使用できない記号があります: {''.join(bad) or '(空)'}")


class ServiceHoursSchema(Section):
    open = fields.String(required=True)
    close = fields.String(required=True)

    @validates_schema
    def _times(self, data: dict[str, Any], **_: Any) -> None:
        errors = {}
        for key in ("open", "close"):
            try:
                value = parse_hhmm(data.get(key, ""))
                if value.hour > 23:
                    raise ValueError
            except ValueError:
                errors[key] = ["HH:MM 形式 (00:00〜23:59) で指定してください"]
        if errors:
            raise ValidationError(errors)


class CalendarSchema(Section):
    # Year-end closure and other yearly closed days: "12-29..01-03" or "08-15".
    closure_days = fields.List(fields.String(), load_default=lambda: ["12-29..01-03"])

    @validates("closure_days")
    def _closure(self, value: list[str], **_: Any) -> None:
        try:
            closure_days(value)
        except (ValueError, TypeError) as exc:
            raise ValidationError("MM-DD または MM-DD..MM-DD の形式で指定してください") from exc


class BillingSchema(Section):
    cycle = fields.String(load_default="monthly", validate=validate.OneOf(["monthly", "bimonthly"]))


HTTPS_URL = r"^https://[^\s<>\"']+$"


class PaymentChannelSchema(Section):
    """One way to pay an open bill, listed on the 電子納付書 (コンビニ, 金融機関, スマホ決済, 窓口)."""

    name = fields.String(required=True, validate=validate.Length(1, 50))
    text = fields.String(load_default="", validate=validate.Length(0, 300))
    url = fields.String(load_default="", validate=validate.Regexp(
        r"^$|" + HTTPS_URL, error="支払方法のリンクは https:// で始まるURLで指定してください"))


class PaymentProviderSchema(Section):
    """The city's online payment provider (billing/providers.py): the kind of its class, the
    name shown and its settings (``redirect``: a URL with {reference}, {amount}, {due_date})."""

    kind = fields.String(required=True, validate=validate.OneOf(["redirect"]))
    name = fields.String(required=True, validate=validate.Length(1, 50))
    url = fields.String(required=True, validate=validate.Regexp(
        HTTPS_URL, error="決済サービスのURLは https:// で始まるURLで指定してください"))


class PaymentSchema(Section):
    """Paying and proof of payment (issue 12 §3, §4): the 収納済証明書's wording and seal (a PNG or
    JPEG in ``tenants/<slug>/assets``), what a citizen whose 口座振替 failed should do, the
    payment channels the 電子納付書 lists and the online payment provider, if any."""

    channels = fields.List(fields.Nested(PaymentChannelSchema), load_default=list)
    # No default: a city without a provider has no key (a nested None could not round-trip through TOML).
    provider = fields.Nested(PaymentProviderSchema)

    certificate_title = fields.String(load_default="収納済証明書", validate=validate.Length(1, 30))
    certificate_text = fields.String(load_default="上記のとおり収納済みであることを証明します。",
                                     validate=validate.Length(1, 300))
    certificate_issuer = fields.String(load_default="", validate=validate.Length(0, 100))  # empty: the city's name
    seal = fields.String(load_default="", validate=validate.Regexp(
        r"^$|^[A-Za-z0-9_-]+\.(png|jpg|jpeg)$", error="印影は assets の PNG または JPEG のファイル名で指定してください"))
    transfer_failed = fields.String(
        load_default="後日お送りする納付書で、納期限までに金融機関またはコンビニエンスストアでお支払いください。",
        validate=validate.Length(1, 300))


CHARGE_KINDS = ("water", "sewer")  # the bill's charge columns: water_charge, sewer_charge


class InvoiceIssuerSchema(Section):
    """Who issues the 適格請求書 for one kind of charge, with its 登録番号."""

    charge = fields.String(required=True, validate=validate.OneOf(CHARGE_KINDS))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    registration_number = fields.String(required=True)

    @validates("registration_number")
    def _number(self, value: str, **_: Any) -> None:
        if not is_registration_number(value):
            raise ValidationError("登録番号は T と13桁の数字で、法人番号の検査用数字が正しいものを指定してください")


class InvoiceSchema(Section):
    """適格請求書: issuers per charge, the rounding of the tax, the 取引年月日, the 媒介者交付特例 note."""

    issuers = fields.List(fields.Nested(InvoiceIssuerSchema), load_default=list)
    rounding = fields.String(load_default="floor", validate=validate.OneOf(list(ROUNDINGS)))
    transaction_date = fields.String(load_default="reading_date", validate=validate.OneOf(["reading_date", "period"]))
    intermediary_note = fields.Boolean(load_default=False)
    reduced_rate = fields.Boolean(load_default=False)  # show the 8% row even when it is 0
    date_style = fields.String(load_default="seireki", validate=validate.OneOf(["seireki", "wareki"]))  # PDF and member-page dates

    @validates("issuers")
    def _one_per_charge(self, value: list[dict[str, str]], **_: Any) -> None:
        charges = [issuer.get("charge") for issuer in value if isinstance(issuer, dict)]
        if len(set(charges)) != len(charges):
            raise ValidationError("同じ料金の発行者が重複しています")


class BrandingSchema(Section):
    primary_color = fields.String(load_default="#005a9c", validate=validate.Regexp(COLOUR))
    primary_text_color = fields.String(load_default="#ffffff", validate=validate.Regexp(COLOUR))
    accent_color = fields.String(load_default="#b3421a", validate=validate.Regexp(COLOUR))
    logo = fields.String(load_default="")
    copyright = fields.String(load_default="")

    @validates_schema
    def _contrast(self, data: dict[str, Any], **_: Any) -> None:
        fg, bg = data.get("primary_text_color"), data.get("primary_color")
        if fg and bg and COLOUR.match(fg) and COLOUR.match(bg) and contrast_ratio(fg, bg) < 4.5:
            raise ValidationError(
                {"primary_text_color": [f"primary_color とのコントラスト比が {contrast_ratio(fg, bg):.2f}:1 です (4.5:1 以上必要)"]}
            )


class MailSchema(Section):
    sender_name = fields.String(required=True)
    sender_address = fields.Email(required=True)
    signature = fields.String(load_default="")


class WindowVariantSchema(Section):
    """``[contact.windows.en]`` / ``.easy``: one window's words in another language (any key may
    be left out: the contact page shows the Japanese one with a note; the phone is shared)."""

    name = fields.String()
    hours = fields.String()
    address = fields.String()
    note = fields.String()


class ContactWindowSchema(Section):
    name = fields.String(required=True)
    phone = fields.String(load_default="")
    hours = fields.String(load_default="")
    address = fields.String(load_default="")
    note = fields.String(load_default="")
    # Optional translations (issue 13 §10), next to the window they translate.
    en = fields.Nested(WindowVariantSchema)
    easy = fields.Nested(WindowVariantSchema)


def _refuse_unknown_placeholders(data: dict[str, Any]) -> None:
    """A ``{name}`` that is no placeholder (tenancy/words.py) is refused, the key and the name said."""
    errors = {}
    for key, value in data.items():
        if isinstance(value, str) and (unknown := unknown_placeholders(value)):
            errors[key] = [f"{{{unknown[0]}}} は使えない差し込み項目です。使えるのは "
                           + "、".join(f"{{{name}}}" for name in PLACEHOLDERS) + " です"]
    if errors:
        raise ValidationError(errors)


class FaqSchema(Section):
    question = fields.String(required=True)
    answer = fields.String(required=True)

    @validates_schema
    def _placeholders(self, data: dict[str, Any], **_: Any) -> None:
        _refuse_unknown_placeholders(data)


class ContactSchema(Section):
    inquiry_email = fields.Email(required=True)
    windows = fields.List(fields.Nested(ContactWindowSchema), load_default=list)


class LanguagesSchema(Section):
    # The citizen languages this city offers (core/i18n.py): 日本語 always, English, やさしい日本語.
    offered = fields.List(fields.String(validate=validate.OneOf(["ja", "en", "easy"])),
                          load_default=lambda: ["ja", "en", "easy"])

    @validates_schema
    def _japanese(self, data: dict[str, Any], **_: Any) -> None:
        if "ja" not in data.get("offered", []):
            raise ValidationError("日本語 (ja) は必ず提供してください。", "offered")


class TextsVariantSchema(Section):
    """``[texts.en]`` / ``[texts.easy]``: the city's texts in another language (any key may be
    left out: the page shows the Japanese text with a note, tenancy/words.py filled_texts)."""

    about = fields.String()
    privacy = fields.String()
    terms = fields.String()
    login_notice = fields.String()
    security_notice = fields.String()
    registration_help = fields.String()
    registration_done = fields.String()
    faq = fields.List(fields.Nested(FaqSchema))

    @validates_schema
    def _placeholders(self, data: dict[str, Any], **_: Any) -> None:
        _refuse_unknown_placeholders(data)


class TextsSchema(Section):
    about = fields.String(load_default="")
    privacy = fields.String(load_default="")
    terms = fields.String(load_default="")
    login_notice = fields.String(load_default="")
    security_notice = fields.String(load_default="")
    registration_help = fields.String(load_default="")
    registration_done = fields.String(load_default="")
    faq = fields.List(fields.Nested(FaqSchema), load_default=list)
    # Optional translations (issue 13 §10); absent unless the city writes them.
    en = fields.Nested(TextsVariantSchema)
    easy = fields.Nested(TextsVariantSchema)

    @validates_schema
    def _placeholders(self, data: dict[str, Any], **_: Any) -> None:
        _refuse_unknown_placeholders(data)


class NoticesSchema(Section):
    # How many days a notice carries the 「New」 badge on members' dashboards.
    new_badge_days = fields.Integer(load_default=7, validate=validate.Range(0, 90))


class AdminSchema(Section):
    require_totp = fields.Boolean(load_default=False)
    session_idle_minutes = fields.Integer(
        load_default=15, validate=validate.Range(5, PLATFORM_FLOOR["staff_idle_timeout_minutes_max"])
    )


# The procedure kinds a city may enable (keys of waterportal.procedures.kinds.KINDS; this
# layer sits below the procedures package, so the keys are listed here and a test keeps the
# two lists equal).
PROCEDURE_KINDS = (
    "move_in", "move_out", "holder_change", "billing_address", "payment_method", "paperless",
    "reduction", "leak_reduction",
)


class ProcedureNoteSchema(Section):
    kind = fields.String(required=True, validate=validate.OneOf(PROCEDURE_KINDS))
    text = fields.String(required=True, validate=validate.Length(1, 2000))


class ReductionKindSchema(Section):
    """One 減免 type the city offers (``[[procedures.reduction_kinds]]``): its name and what
    the form says under it (who qualifies, which certificate to attach)."""

    name = fields.String(required=True, validate=validate.Length(1, 60))
    note = fields.String(load_default="", validate=validate.Length(0, 1000))


class ProceduresSchema(Section):
    """各種お手続き: which kinds the city offers and the rules of their dates and files.

    Business days for the date windows skip weekends, national holidays and the city's
    ``calendar.closure_days``."""

    enabled = fields.List(fields.String(validate=validate.OneOf(PROCEDURE_KINDS)), load_default=list)
    lead_business_days = fields.Integer(load_default=3, validate=validate.Range(0, 30))
    horizon_days = fields.Integer(load_default=30, validate=validate.Range(1, 180))
    notes = fields.List(fields.Nested(ProcedureNoteSchema), load_default=list)
    reduction_kinds = fields.List(fields.Nested(ReductionKindSchema), load_default=list)
    duplicate_window_minutes = fields.Integer(load_default=10, validate=validate.Range(1, 1440))
    attachment_max_mb = fields.Integer(load_default=5, validate=validate.Range(1, 20))
    attachment_max_files = fields.Integer(load_default=5, validate=validate.Range(1, 10))
    export_encoding = fields.String(load_default="utf-8", validate=validate.OneOf(["utf-8", "shift_jis"]))
    daily_summary = fields.Boolean(load_default=False)

    @validates("enabled")
    def _unique(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("同じ手続きが重複しています")

    @validates("reduction_kinds")
    def _unique_reductions(self, value: list[dict[str, str]], **_: Any) -> None:
        names = [kind.get("name") for kind in value if isinstance(kind, dict)]
        if len(set(names)) != len(names):
            raise ValidationError("同じ名前の減免の種類が重複しています")


class BasicChargeSchema(Section):
    """One 口径's basic charge per month (yen before tax): water and sewer."""

    diameter_mm = fields.Integer(required=True, validate=validate.Range(10, 300))
    water = fields.Integer(required=True, validate=validate.Range(0, 1_000_000))
    sewer = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class TierSchema(Section):
    """A volume tier: m³ above ``over`` up to ``upto`` (empty: no limit), yen per m³ before tax."""

    over = fields.Integer(required=True, validate=validate.Range(0, 100_000))
    upto = fields.Integer(validate=validate.Range(1, 100_000))  # left out on the last tier: TOML has no null
    price = fields.Integer(required=True, validate=validate.Range(0, 100_000))

    @pre_load
    def _blank_is_open(self, data: Any, **_: Any) -> Any:
        """The console sends an empty ``upto`` for the last, open tier: the key is left out."""
        if isinstance(data, dict) and "upto" in data and (data["upto"] is None or str(data["upto"]).strip() == ""):
            return {k: v for k, v in data.items() if k != "upto"}
        return data


def _tier_problems(tiers: list[dict[str, Any]]) -> list[str]:
    """Tiers must start at 0, follow each other without a gap or overlap, rise, and end open."""
    problems = []
    expected = 0
    for number, tier in enumerate(tiers, start=1):
        over, upto = tier.get("over"), tier.get("upto")
        if over != expected:
            problems.append(f"{number}段目の下限(over)は{expected}m³にしてください(段の間に隙間や重なりがあります)")
        if upto is not None and over is not None and upto <= over:
            problems.append(f"{number}段目の上限(upto)は下限より大きくしてください")
        if upto is None and number < len(tiers):
            problems.append(f"上限のない段は最後の段だけにしてください({number}段目)")
        expected = upto if upto is not None else expected
    if tiers and tiers[-1].get("upto") is not None:
        problems.append("最後の段は上限(upto)を空にしてください")
    return problems


class TariffSchema(Section):
    """料金表 (料金シミュレーション and the demo bills; docs/tenant-config.md): basic charges by
    口径, water and sewer tiers, the tax rate, the rounding of each tax-inclusive charge and the
    rule for a two-month period (billing/tariff.py)."""

    basic = fields.List(fields.Nested(BasicChargeSchema), required=True, validate=validate.Length(1, 20))
    water_tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(1, 12))
    sewer_tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(1, 12))
    tax_rate = fields.Integer(load_default=10, validate=validate.Range(0, 30))
    rounding = fields.String(load_default="floor", validate=validate.OneOf(list(ROUNDINGS)))
    rounding_unit = fields.Integer(load_default=1, validate=validate.OneOf([1, 10]))
    bimonthly = fields.String(load_default="double", validate=validate.OneOf(["double", "split"]))
    note = fields.String(load_default="", validate=validate.Length(0, 1000))

    @validates("basic")
    def _one_per_diameter(self, value: list[dict[str, Any]], **_: Any) -> None:
        sizes = [row.get("diameter_mm") for row in value if isinstance(row, dict)]
        if len(set(sizes)) != len(sizes):
            raise ValidationError("同じ口径の基本料金が重複しています")

    @validates("water_tiers")
    def _water_tiers(self, value: list[dict[str, Any]], **_: Any) -> None:
        if problems := _tier_problems(value):
            raise ValidationError(problems)

    @validates("sewer_tiers")
    def _sewer_tiers(self, value: list[dict[str, Any]], **_: Any) -> None:
        if problems := _tier_problems(value):
            raise ValidationError(problems)


class InsightSchema(Section):
    """Usage insight (issue 14, docs/insight.md): the bills import's after-steps and their thresholds."""

    # 同じ人数の世帯の平均 (§2): the medians by household size are computed by the bills
    # import; a city's own median is shown only where at least this many households
    # contribute (privacy: never fewer than 20), else the national table.
    comparison_enabled = fields.Boolean(load_default=True)
    comparison_min_households = fields.Integer(load_default=20, validate=validate.Range(20, 1_000_000))
    # 漏水の可能性 (§1, billing/leaks.py): a new bill is flagged when its usage is at least
    # leak_ratio times the same period last year's, at least leak_min_m3 more, and above
    # the largest of the contract's leak_usual_bills bills before it. Off: the step is skipped.
    leak_enabled = fields.Boolean(load_default=True)
    leak_ratio = fields.Float(load_default=1.5, validate=validate.Range(
        1.1, 10, error="leak_ratio(前年同期との比)は{min}以上{max}以下で指定してください"))
    leak_min_m3 = fields.Integer(load_default=5, validate=validate.Range(
        1, 10_000, error="leak_min_m3(前年同期からの増加量 m³)は{min}以上{max}以下で指定してください"))
    leak_usual_bills = fields.Integer(load_default=6, validate=validate.Range(
        1, 24, error="leak_usual_bills(ふだんの使用量とみなす直前の請求の数)は{min}以上{max}以下で指定してください"))


class TenantDefinitionSchema(Section):
    """The whole of ``tenant.toml``."""

    slug = fields.String(required=True, validate=validate.Regexp(SLUG, error="英小文字・数字・ハイフン (2〜40文字) で指定してください"))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    portal_name = fields.String(required=True, validate=validate.Length(1, 200))
    hosts = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    timezone = fields.String(load_default="Asia/Tokyo")
    theme = fields.String(load_default="default", validate=validate.Regexp(r"^[a-z][a-z0-9_-]*$"))
    enabled = fields.Boolean(load_default=True)
    login = fields.Nested(LoginSchema, required=True)
    registration = fields.Nested(RegistrationSchema, load_default=lambda: RegistrationSchema().load({}))
    password_policy = fields.Nested(PasswordPolicySchema, load_default=lambda: PasswordPolicySchema().load({}))
    service_hours = fields.Nested(ServiceHoursSchema, load_default=None, allow_none=True)
    calendar = fields.Nested(CalendarSchema, load_default=lambda: CalendarSchema().load({}))
    billing = fields.Nested(BillingSchema, load_default=lambda: BillingSchema().load({}))
    invoice = fields.Nested(InvoiceSchema, load_default=lambda: InvoiceSchema().load({}))
    payment = fields.Nested(PaymentSchema, load_default=lambda: PaymentSchema().load({}))
    branding = fields.Nested(BrandingSchema, load_default=lambda: BrandingSchema().load({}))
    mail = fields.Nested(MailSchema, required=True)
    contact = fields.Nested(ContactSchema, required=True)
    texts = fields.Nested(TextsSchema, load_default=lambda: TextsSchema().load({}))
    languages = fields.Nested(LanguagesSchema, load_default=lambda: LanguagesSchema().load({}))
    notices = fields.Nested(NoticesSchema, load_default=lambda: NoticesSchema().load({}))
    admin = fields.Nested(AdminSchema, load_default=lambda: AdminSchema().load({}))
    procedures = fields.Nested(ProceduresSchema, load_default=lambda: ProceduresSchema().load({}))
    tariff = fields.Nested(TariffSchema, load_default=None, allow_none=True)  # none: no 料金シミュレーション
    insight = fields.Nested(InsightSchema, load_default=lambda: InsightSchema().load({}))

    @validates("timezone")
    def _tz(self, value: str, **_: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"不明なタイムゾーンです: {value}") from exc

    @validates("hosts")
    def _hosts(self, value: list[str], **_: Any) -> None:
        seen: set[str] = set()
        for host in value:
            try:
                clean = normalise_host(host)
            except ValueError as exc:
                raise ValidationError(f"ホスト名が正しくありません: {host}") from exc
            if clean in seen:  # "x.jp" and "X.jp." are one host: applying both broke the unique key
                raise ValidationError(f"ホスト名が重複しています: {host}")
            seen.add(clean)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into ``{"password_policy.min_length": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = [japanese(m) for m in messages]
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}[{index}]"))
    else:
        flat[prefix or "_schema"] = [japanese(messages)]
    return flat


# One instance each, reused: a new schema instance builds every nested schema again, which
# was half the cost of a load (onboarding 1,741 cities validates each twice). Loading keeps
# no state on the instance, so threads may share them.
_DEFINITION = TenantDefinitionSchema()
_SETTINGS: dict[str, TenantDefinitionSchema] = {}


def validate_definition(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a tenant definition; return it with defaults filled, or raise SettingsInvalid."""
    try:
        loaded = _DEFINITION.load(data)
    except ValidationError as exc:
        raise SettingsInvalid(flatten_errors(exc.messages)) from exc
    loaded["hosts"] = [normalise_host(h) for h in loaded["hosts"]]
    return loaded


# --- Layering: platform defaults <- tenant.toml <- city-admin overrides -----------------

# The keys a city's own admin may change in the console (section -> keys). Everything
# else (hosts, login mode, theme, time zone, billing cycle, mail sender, ...) belongs to
# the vendor and changes only through tenant.toml.
CITY_OWNED: dict[str, tuple[str, ...]] = {
    "service_hours": ("open", "close"),
    "calendar": ("closure_days",),
    "password_policy": (
        "min_length", "max_length", "require_upper", "require_lower", "require_digit",
        "require_symbol", "allowed_symbols",
    ),
    "registration": ("code_ttl_minutes", "data_visible_after_business_days"),
    "texts": (
        "about", "privacy", "terms", "login_notice", "security_notice", "registration_help",
        "registration_done", "faq", "en", "easy",
    ),
    "contact": ("inquiry_email", "windows"),
    # Which citizen languages the city offers (issue 13 §10: "a city setting"); 日本語 always.
    "languages": ("offered",),
    "branding": ("primary_color", "primary_text_color", "accent_color", "logo", "copyright"),
    "notices": ("new_badge_days",),
    "admin": ("require_totp", "session_idle_minutes"),
    "procedures": (
        "enabled", "lead_business_days", "horizon_days", "notes", "reduction_kinds", "daily_summary",
    ),
    "tariff": (
        "basic", "water_tiers", "sewer_tiers", "tax_rate", "rounding", "rounding_unit", "bimonthly", "note",
    ),
    "insight": ("leak_enabled", "leak_ratio", "leak_min_m3", "leak_usual_bills"),
}
# Sections a city may switch off entirely (``None``): no service hours = always open.
NULLABLE_SECTIONS = frozenset({"service_hours"})
IDENTITY_KEYS = ("slug", "name", "portal_name", "hosts", "enabled")


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` onto ``base``: dicts recursively, anything else (lists, None) replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value)
        return merged
    return override


def check_city_owned(overrides: dict[str, Any]) -> None:
    """Raise SettingsInvalid when ``overrides`` touches a key the city does not own."""
    errors: dict[str, list[str]] = {}
    for section, value in overrides.items():
        if section not in CITY_OWNED:
            errors[section] = ["市町村の管理画面からは変更できない項目です"]
        elif value is None:
            if section not in NULLABLE_SECTIONS:
                errors[section] = ["この項目は空にできません"]
        elif not isinstance(value, dict):
            errors[section] = ["形式が正しくありません"]
        else:
            for key in value:
                if key not in CITY_OWNED[section]:
                    errors[f"{section}.{key}"] = ["市町村の管理画面からは変更できない項目です"]
    if errors:
        raise SettingsInvalid(errors)


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate the settings part of a definition (no slug/hosts); fill defaults or raise SettingsInvalid."""
    schema = _SETTINGS.get("settings") or _SETTINGS.setdefault("settings", TenantDefinitionSchema(exclude=IDENTITY_KEYS))
    try:
        return schema.load({k: v for k, v in settings.items() if k not in IDENTITY_KEYS})
    except ValidationError as exc:
        raise SettingsInvalid(flatten_errors(exc.messages)) from exc


def effective_settings(base: dict[str, Any], overrides: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The settings a city runs with: ``base`` (tenant.toml, defaults filled) <- ``overrides``.

    Returns the validated settings and the override sections that had to be ignored
    because, merged with a newer tenant.toml, they no longer validate (the city keeps
    running on tenant.toml for those sections; the admin sees it in the console).
    """
    overrides = overrides or {}
    try:
        return validate_settings(deep_merge(base, overrides)), []
    except SettingsInvalid as exc:
        bad = sorted({re.split(r"[.\[]", key)[0] for key in exc.errors} & set(overrides))
        if not bad:
            raise
        kept = {k: v for k, v in overrides.items() if k not in bad}
        return validate_settings(deep_merge(base, kept)), bad


# What the stored effective settings were computed with: this module's source (schemas,
# defaults, floors) and the password limits it imports. A release that changes any of them
# makes every stored copy stale, and the registry validates such a city again on load.
SCHEMA_FINGERPRINT = hashlib.sha256(
    Path(__file__).read_bytes() + repr((FLOOR_MIN_LENGTH, MAX_LENGTH, MAX_LENGTH_AT_LEAST)).encode()
).hexdigest()[:16]
