"""How the city-owned settings are grouped into console pages, with Japanese labels.

Which keys a city owns comes from ``tenancy.schemas.CITY_OWNED``; types, ranges and
validation come from the tenant.toml schemas themselves (see admin.schema_form). This
module only adds what a schema cannot say: page titles, labels, hints and widgets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from waterportal.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from waterportal.tenancy.schemas import CITY_OWNED


@dataclass(frozen=True)
class Group:
    """One settings page: ``(section, keys)`` pairs edited and saved together."""

    slug: str
    title: str
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    description: str = ""


GROUPS: dict[str, Group] = {g.slug: g for g in (
    Group("hours", "利用時間・休業日", (("service_hours", ("open", "close")), ("calendar", ("closure_days",))),
          "ポータルを利用できる時間と、営業日の計算から除く休業日です。"),
    Group("security", "パスワード・登録", (
        ("password_policy", CITY_OWNED["password_policy"]),
        ("registration", ("code_ttl_minutes", "data_visible_after_business_days")),
    ), "会員のパスワードの条件(プラットフォームの下限より弱くはできません)と、会員登録の設定です。"),
    Group("pages", "ページの文章", (("texts", (
        "about", "privacy", "terms", "login_notice", "security_notice", "registration_help", "registration_done",
    )),), "各ページに表示する文章です。段落は空行で区切ります。"),
    Group("languages", "表示言語", (("languages", CITY_OWNED["languages"]),),
          "市民のページで選べる言語です。市民はどのページでも、この中から言語を選べます。日本語は必ず表示します。"
          "翻訳のない市の文章やお知らせは、その言語を選んだ方にも日本語で表示し、翻訳がないことを書き添えます。"
          "外した言語を選んでいた方には、ページもメールも日本語で表示・送信します。"),
    Group("faq", "よくある質問", (("texts", ("faq",)),), "質問と回答の組です。両方を空欄にした行は削除されます。"),
    Group("contact", "お問い合わせ窓口", (("contact", ("inquiry_email", "windows")),),
          "「お客さま窓口一覧」に表示する窓口です。すべて空欄にした行は削除されます。"),
    Group("branding", "デザイン", (("branding", CITY_OWNED["branding"]),),
          "ヘッダーの色とロゴです。文字色は背景色に対してコントラスト比4.5:1以上が必要です。"),
    Group("console", "お知らせ・管理画面", (("notices", ("new_badge_days",)), ("admin", ("require_totp", "session_idle_minutes"))),
          "お知らせの「New」表示の日数と、管理画面のセキュリティ設定です。"),
    Group("procedures", "各種お手続き", (("procedures", CITY_OWNED["procedures"]),),
          "市民がポータルから申し込める手続きと、希望日の受付期間・案内文です。"),
    Group("tariff", "料金表", (("tariff", CITY_OWNED["tariff"]),),
          "料金シミュレーションに使う料金表です(1か月あたり・税抜)。段は「下限を超え上限まで」で、"
          "1段目の下限は0、次の段の下限は前の段の上限、最後の段は上限を空欄にします。"),
    Group("insight", "使用量のお知らせ", (("insight", CITY_OWNED["insight"]),),
          "新しい請求の取込み時に、使用量が前年同期より大きく増え、ふだんの使用量も上回った世帯へ"
          "「漏水の可能性」をお知らせします(会員ページの表示と、希望した会員へのメール)。"),
)}

# The groups whose words a city may also write in English and やさしい日本語 (issue 13 §10):
# ``[texts.en]`` / ``[texts.easy]`` and each window's ``en`` / ``easy`` table (admin.settings.variant_form).
TRANSLATABLE = ("pages", "faq", "contact")
VARIANT_LANGUAGES = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)

SECTION_TITLES = {
    "service_hours": "利用時間", "calendar": "休業日", "password_policy": "パスワードの条件",
    "registration": "会員登録", "texts": "文章", "contact": "お問い合わせ", "branding": "デザイン",
    "notices": "お知らせ", "admin": "管理画面", "procedures": "各種お手続き", "tariff": "料金表",
    "insight": "使用量のお知らせ", "languages": "表示言語",
}

LABELS = {
    "service_hours.open": "利用開始時刻",
    "service_hours.close": "利用終了時刻",
    "service_hours.__none__": "利用時間を制限しない(24時間利用可能)",
    "calendar.closure_days": "休業日(毎年)",
    "password_policy.min_length": "最小文字数",
    "password_policy.max_length": "最大文字数",
    "password_policy.require_upper": "アルファベット大文字を必須にする",
    "password_policy.require_lower": "アルファベット小文字を必須にする",
    "password_policy.require_digit": "数字を必須にする",
    "password_policy.require_symbol": "記号を必須にする",
    "password_policy.allowed_symbols": "使用できる記号",
    "registration.code_ttl_minutes": "確認コードの有効期間(分)",
    "registration.data_visible_after_business_days": "使用量を表示するまでの営業日数",
    "texts.about": "このサイトについて",
    "texts.privacy": "個人情報のお取り扱いについて",
    "texts.terms": "利用規約",
    "texts.login_notice": "ご利用時間の案内(ログイン画面)",
    "texts.security_notice": "セキュリティ確保のために(ログイン画面)",
    "texts.registration_help": "会員登録の案内",
    "texts.registration_done": "会員登録完了時の案内",
    "texts.faq": "よくある質問",
    "texts.faq.question": "質問",
    "texts.faq.answer": "回答",
    "contact.inquiry_email": "お問い合わせの受付メールアドレス",
    "contact.windows": "窓口",
    "contact.windows.name": "窓口名",
    "contact.windows.phone": "電話番号",
    "contact.windows.hours": "受付時間",
    "contact.windows.address": "所在地",
    "contact.windows.note": "備考",
    "branding.primary_color": "基本色(ヘッダーの背景)",
    "branding.primary_text_color": "基本色の上の文字色",
    "branding.accent_color": "強調色",
    "branding.logo": "ロゴ",
    "branding.copyright": "著作権表示",
    "notices.new_badge_days": "「New」を表示する日数",
    "admin.require_totp": "職員全員に2段階認証(確認コード)を必須にする",
    "admin.session_idle_minutes": "管理画面の自動ログアウトまでの時間(分)",
    "procedures.enabled": "受け付ける手続き",
    "procedures.lead_business_days": "希望日の受付:何営業日後から",
    "procedures.horizon_days": "希望日の受付:何日先まで",
    "procedures.notes": "手続きごとの案内文",
    "procedures.notes.kind": "手続き",
    "procedures.notes.text": "案内文",
    "procedures.reduction_kinds": "減免の種類",
    "procedures.reduction_kinds.name": "種類の名前",
    "procedures.reduction_kinds.note": "申請画面の案内(対象となる方・添付する書類)",
    "procedures.daily_summary": "受付状況の日次まとめを問い合わせ先アドレスへ送る",
    "tariff.basic": "口径別の基本料金(1か月・税抜)",
    "tariff.basic.diameter_mm": "口径(mm)",
    "tariff.basic.water": "水道 基本料金(円)",
    "tariff.basic.sewer": "下水道 基本使用料(円)",
    "tariff.water_tiers": "水道 従量料金(1m³あたり・税抜)",
    "tariff.sewer_tiers": "下水道 従量使用料(1m³あたり・税抜)",
    "tariff.water_tiers.over": "下限(m³を超え)", "tariff.sewer_tiers.over": "下限(m³を超え)",
    "tariff.water_tiers.upto": "上限(m³まで)", "tariff.sewer_tiers.upto": "上限(m³まで)",
    "tariff.water_tiers.price": "単価(円/m³)", "tariff.sewer_tiers.price": "単価(円/m³)",
    "tariff.tax_rate": "消費税率(%)",
    "tariff.rounding": "税込額の端数処理",
    "tariff.rounding_unit": "端数処理の単位(円)",
    "tariff.bimonthly": "2か月分の計算方法",
    "tariff.note": "料金シミュレーションの注記",
    "insight.leak_enabled": "漏水の可能性をお知らせする",
    "insight.leak_ratio": "前年同期の何倍以上で知らせるか(倍)",
    "insight.leak_min_m3": "前年同期から何m³以上増えたら知らせるか(m³)",
    "insight.leak_usual_bills": "ふだんの使用量とみなす直前の請求の数",
    "languages.offered": "市民が選べる言語",
}

HINTS = {
    "service_hours.open": "24時間表記(例: 07:00)",
    "service_hours.close": "開始より前の時刻にすると日付をまたぎます(例: 07:00〜02:00)",
    "calendar.closure_days": "1行に1つ。MM-DD または範囲 MM-DD..MM-DD(例: 12-29..01-03)",
    "password_policy.allowed_symbols": "例: !?#$&()-_",
    "registration.data_visible_after_business_days": "土日祝日と休業日は数えません",
    "branding.primary_color": "#RRGGBB 形式(例: #005a9c)",
    "branding.primary_text_color": "#RRGGBB 形式(例: #ffffff)",
    "branding.accent_color": "#RRGGBB 形式",
    "notices.new_badge_days": "0 にすると表示しません",
    "admin.require_totp": "有効にすると、未設定の職員は次回ログイン時に設定します",
    "procedures.enabled": (
        "1行に1つ。move_in(使用開始) move_out(使用中止) holder_change(名義変更) billing_address(送付先変更) "
        "payment_method(口座振替・支払方法) paperless(ペーパーレス) reduction(減免) leak_reduction(漏水減額)"
    ),
    "procedures.lead_business_days": "土日祝日と休業日は数えません",
    "procedures.notes.kind": "move_in などの手続きの記号",
    "procedures.reduction_kinds.name": "例: 生活保護世帯",
    "tariff.rounding": "floor(切り捨て)、half_up(四捨五入)、ceil(切り上げ)のいずれか",
    "tariff.rounding_unit": "1(1円未満を処理)または 10(10円未満を処理)",
    "tariff.bimonthly": "double(基本料金2か月分・各段の水量を2倍)または split(使用水量を2か月に分けて各月で計算)",
    "insight.leak_ratio": "1.1〜10(例: 1.5)。2か月ごとの契約は2か月分どうしで比べます",
    "insight.leak_min_m3": "少ない使用量のわずかな増加では知らせないための下限(例: 5)",
    "insight.leak_usual_bills": "今回の使用量がこの数の直前の請求のどれよりも多いときに知らせます(例: 6)",
    "languages.offered": "日本語は必ず表示します(外せません)。",
    "tariff.water_tiers.upto": "最後の段は空欄",
    "tariff.sewer_tiers.upto": "最後の段は空欄",
}

# Widgets the schema type alone cannot choose.
WIDGETS = {
    "service_hours.open": "time",
    "service_hours.close": "time",
    "texts.about": "textarea", "texts.privacy": "textarea", "texts.terms": "textarea",
    "texts.security_notice": "textarea", "texts.registration_help": "textarea",
    "texts.registration_done": "textarea", "texts.login_notice": "textarea",
    "texts.faq.answer": "textarea",
    "procedures.notes.text": "textarea",
    "procedures.reduction_kinds.note": "textarea",
    "tariff.note": "textarea",
    "branding.logo": "logo",
    "languages.offered": "choices",
}

# A "choices" list (one checkbox per choice): each choice's Japanese label, in the order shown.
CHOICES = {
    "languages.offered": {"ja": "日本語", "en": "English(英語)", "easy": "やさしい日本語"},
}
# Choices that are always on: drawn checked and disabled, and submitted (a post without them is
# refused by the schema like any other bad value).
FIXED_CHOICES = {
    "languages.offered": (DEFAULT_LANGUAGE,),
}


def choice_label(key: str, value: str) -> str:
    """The Japanese label of one choice of a "choices" key (the value itself when unknown)."""
    return CHOICES.get(re.sub(r"\.\d+(?=\.|$)", "", key), {}).get(value, value)

# Vendor-owned keys shown read-only on the settings page.
VENDOR_KEYS = (
    ("hosts", "ホスト名"), ("login.mode", "ログイン方式"), ("theme", "テーマ"), ("timezone", "タイムゾーン"),
    ("billing.cycle", "検針・請求の周期"), ("registration.customer_number_digits", "お客様番号の桁数"),
    ("login.idle_timeout_minutes", "会員の自動ログアウト(分)"), ("mail.sender_address", "送信元メールアドレス"),
)
LOGIN_MODES = {"email": "メールアドレス", "login_id": "ログインID"}
CYCLES = {"monthly": "毎月", "bimonthly": "隔月"}


def label(key: str) -> str:
    """The Japanese label of a dotted key (row keys drop their index: ``texts.faq.0.question``);
    a translation's key names its language: ``texts.en.about`` 「このサイトについて(English)」."""
    parts = [p for p in key.split(".") if not p.isdigit()]
    language = next((p for p in parts[1:] if p in VARIANT_LANGUAGES), None)
    if language:
        parts = [parts[0], *(p for p in parts[1:] if p != language)]
    joined = ".".join(parts)
    # A section switched on or off as a whole (利用時間 ⇄ 24時間) is diffed by its bare name.
    text = LABELS.get(joined) or SECTION_TITLES.get(joined, key)
    return f"{text}({LANGUAGES[language]})" if language else text


# A clock time written in a text: 07:00, AM7:00, 7：00, 7時 (not 24時間).
TIME_IN_TEXT = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*時(?!間)")


def texts_with_times(settings: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """``(label, group slug, language or None)`` of the city's texts that write a clock time,
    in Japanese and in the translations (``[texts.en]``, ``[texts.easy]``).

    Service hours are data, but a city's wording (ログイン画面の案内, このサイトについて,
    FAQ) often repeats them; the hours page names these texts so an admin changing the
    hours changes the wording too.
    """
    all_texts = settings.get("texts") or {}
    found: list[tuple[str, str, str | None]] = []
    for language in (None, *VARIANT_LANGUAGES):
        texts = (all_texts.get(language) or {}) if language else all_texts
        prefix = f"texts.{language}" if language else "texts"
        for key in GROUPS["pages"].parts[0][1]:
            if TIME_IN_TEXT.search(texts.get(key) or ""):
                found.append((label(f"{prefix}.{key}"), "pages", language))
        if any(TIME_IN_TEXT.search(f"{row.get('question', '')} {row.get('answer', '')}")
               for row in texts.get("faq") or []):
            found.append((label(f"{prefix}.faq"), "faq", language))
    return found
