"""Settings pages: forms from the schemas, validation, preview, revisions, rollback, layering."""
from __future__ import annotations

import copy
import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.admin.conftest import form_fields
from tests.conftest import city
from waterportal.admin.models import SettingsRevision
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant

TOKYO = ZoneInfo("Asia/Tokyo")


def settings_post(client, group: str, changes: dict, action: str = "save", **kwargs):
    """Post a settings page as a browser would: every field as shown, with ``changes`` applied.

    A change to ``None`` leaves the field out (an unchecked checkbox).
    """
    data = form_fields(client.get(f"/admin/settings/{group}").get_data(as_text=True))
    data.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        data.pop(key, None)
    data["action"] = action
    return client.post(f"/admin/settings/{group}", data=data, **kwargs)


def tenant_state(app, slug: str):
    with app.app_context():
        row = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        return row.version, copy.deepcopy(row.overrides)


def revisions(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return [(r.number, r.action, r.group, r.restored_from, r.changes, r.overrides)
                for r in db.session.scalars(select(SettingsRevision).order_by(SettingsRevision.number))]


@pytest.mark.parametrize("group, shown", [
    ("hours", ['value="07:00"', 'value="02:00"', "12-29..01-03"]),
    ("security", ['name="password_policy.min_length" value="10"', 'min="5"', 'max="60"']),
    ("pages", ["金沢市上下水道ポータルサイト(以下「ポータルサイト」といいます。)"]),
    ("faq", ["ログインIDを忘れました。", 'name="texts.faq.3.question"']),
    ("contact", ["portal@kanazawa.localhost", "金沢市企業局 営業課"]),
    ("branding", ['value="#7a1f2b"', 'src="/_tenant/logo.png"']),
    ("console", ['name="notices.new_badge_days" value="7"', 'name="admin.session_idle_minutes" value="15"']),
])
def test_each_settings_page_shows_the_current_values(staff_client, group, shown):
    body = staff_client("kanazawa").get(f"/admin/settings/{group}").get_data(as_text=True)
    for text in shown:
        assert text in body


def test_vendor_owned_keys_are_shown_read_only(staff_client):
    body = staff_client("kanazawa").get("/admin/settings").get_data(as_text=True)
    assert "システム管理者が設定する項目(変更できません)" in body
    for text in ("kanazawa.localhost", "ログインID", "default", "Asia/Tokyo", "隔月"):
        assert f"<dd>{text}</dd>" in body
    assert 'name="login.mode"' not in body


def test_saving_service_hours_takes_effect_at_once_and_is_recorded(app, staff_client, kanazawa, client_for, audit_entries):
    with time_machine.travel(dt.datetime(2026, 11, 18, 12, 0, tzinfo=TOKYO), tick=False) as clock:
        client = staff_client("kanazawa")
        version, _ = tenant_state(app, "kanazawa")
        response = settings_post(client, "hours", {"service_hours.open": "06:00"})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "「利用時間・休業日」を保存しました(変更履歴 No.1)" in page

        new_version, overrides = tenant_state(app, "kanazawa")
        assert new_version == version + 1
        assert overrides == {"service_hours": {"open": "06:00"}}  # only what differs from tenant.toml
        assert city(app, "kanazawa").settings["service_hours"]["open"] == "06:00"
        assert revisions(app, kanazawa) == [
            (1, "change", "hours", None, [{"key": "service_hours.open", "old": "07:00", "new": "06:00"}], overrides)
        ]
        actor, _, target, detail, addr = audit_entries(kanazawa, "settings.change")[0]
        assert (actor, target, addr) == (f"staff:{client.staff_id}", "hours", "127.0.0.1")
        assert detail == {"revision": 1, "keys": ["service_hours.open"]}

        # Next morning at 05:30 the portal is closed to citizens, the console is not.
        clock.move_to(dt.datetime(2026, 11, 19, 5, 30, tzinfo=TOKYO))
        assert client_for("kanazawa").get("/faq").status_code == 503
        early = staff_client("kanazawa", email="hayaban@kanazawa.example.jp")
        assert early.get("/admin/settings/hours").status_code == 200
        # At 06:30 a citizen gets the portal instead of the maintenance page (it opened at 07:00 before).
        clock.move_to(dt.datetime(2026, 11, 19, 6, 30, tzinfo=TOKYO))
        assert client_for("kanazawa").get("/faq").status_code == 200


def test_invalid_values_are_refused_next_to_each_field_and_nothing_is_saved(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    before = tenant_state(app, "kanazawa")
    response = settings_post(client, "security", {
        "password_policy.min_length": "6", "password_policy.require_upper": "1",
        "registration.code_ttl_minutes": "abc", "registration.data_visible_after_business_days": "99",
        "password_policy.allowed_symbols": "!?あ",
    })
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "保存されていません" in body
    assert re.search(r'id="f-password_policy-min_length-error">プラットフォームの下限 8 文字より短くできません', body)
    assert re.search(r'id="f-registration-code_ttl_minutes-error">整数で入力してください。', body)
    assert re.search(r'id="f-registration-data_visible_after_business_days-error">0〜30の範囲で入力してください。', body)
    assert "使用できない記号があります" in body
    assert 'name="registration.code_ttl_minutes" value="abc"' in body  # input kept
    assert re.search(r'name="password_policy.require_upper" value="1" checked', body)
    assert tenant_state(app, "kanazawa") == before and revisions(app, kanazawa) == []


@pytest.mark.parametrize("changes, field, message", [
    ({"service_hours.open": "25:00"}, "service_hours-open", "HH:MM 形式 (00:00〜23:59) で指定してください"),
    ({"calendar.closure_days": "12-29..01-03\n13-40"}, "calendar-closure_days", "MM-DD または MM-DD..MM-DD の形式で指定してください"),
    ({"service_hours.close": ""}, "service_hours-close", "HH:MM 形式"),
])
def test_hours_errors(staff_client, changes, field, message):
    body = settings_post(staff_client("kanazawa"), "hours", changes).get_data(as_text=True)
    assert re.search(rf'id="f-{field}-error">{re.escape(message)}', body)


def test_branding_colours_are_checked_for_format_and_contrast(staff_client):
    client = staff_client("kanazawa")
    body = settings_post(client, "branding", {"branding.primary_color": "red"}).get_data(as_text=True)
    assert re.search(r'id="f-branding-primary_color-error">#RRGGBB の形式', body)
    body = settings_post(client, "branding", {"branding.primary_text_color": "#888888"}).get_data(as_text=True)
    assert re.search(r'id="f-branding-primary_text_color-error">primary_color とのコントラスト比が', body)


def test_faq_rows_are_added_removed_and_checked(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    body = settings_post(client, "faq", {"texts.faq.3.question": "料金はいつ引き落とされますか。"}).get_data(as_text=True)
    assert re.search(r'id="f-texts-faq-3-answer-error">入力してください。', body)
    assert 'value="料金はいつ引き落とされますか。"' in body
    response = settings_post(client, "faq", {
        "texts.faq.0.question": "", "texts.faq.0.answer": "",  # blank row: deleted
        "texts.faq.3.question": "料金はいつ引き落とされますか。", "texts.faq.3.answer": "毎月26日です。\r\n詳しくは https://example.jp/ をご覧ください。",
    })
    assert response.status_code == 302
    faq = city(app, "kanazawa").settings["texts"]["faq"]
    assert [item["question"] for item in faq] == ["夜間に利用できません。", "複数の場所の契約をまとめて見られますか。", "料金はいつ引き落とされますか。"]
    assert faq[2]["answer"] == "毎月26日です。\n詳しくは https://example.jp/ をご覧ください。"
    assert revisions(app, kanazawa)[0][4][0]["key"] == "texts.faq"


def test_contact_window_email_is_validated(staff_client):
    body = settings_post(staff_client("kanazawa"), "contact", {"contact.inquiry_email": "portal@"}).get_data(as_text=True)
    assert re.search(r'id="f-contact-inquiry_email-error">メールアドレスの形式が正しくありません。', body)


def test_preview_shows_the_login_page_with_the_new_values_without_saving(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    before = tenant_state(app, "kanazawa")
    response = settings_post(client, "pages", {"texts.login_notice": "本日は<18時>まで"}, action="preview")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "ログイン画面のプレビュー(まだ保存されていません)" in body
    srcdoc = html.unescape(re.search(r'<iframe sandbox="" title="[^"]+" srcdoc="([^"]*)"', body).group(1))
    assert "本日は&lt;18時&gt;まで" in srcdoc  # escaped inside the page, not markup
    # The city's colours: its brand stylesheet, keyed by the colours (no inline style under the CSP).
    assert "金沢市上下水道ポータルサイト ログイン" in srcdoc and "/_brand.css?c=7a1f2b-" in srcdoc
    assert "本日は&lt;18時&gt;まで</textarea>" in body  # the form keeps the value for saving
    assert tenant_state(app, "kanazawa") == before and revisions(app, kanazawa) == []
    # The preview's colours are the previewed ones.
    body = settings_post(client, "branding", {"branding.primary_color": "#123456"}, action="preview").get_data(as_text=True)
    assert "/_brand.css?c=123456-" in html.unescape(body)


def test_history_shows_the_diff_and_rollback_restores_an_older_state(app, staff_client, kanazawa, audit_entries):
    client = staff_client("kanazawa")
    settings_post(client, "hours", {"service_hours.open": "06:00"})
    settings_post(client, "console", {"notices.new_badge_days": "3", "service_hours.open": "05:00"})
    settings_post(client, "hours", {"service_hours.open": "08:00", "service_hours.close": "20:00"})
    page = client.get("/admin/settings/history").get_data(as_text=True)
    assert page.index("No.3") < page.index("No.2") < page.index("No.1")
    assert "利用開始時刻" in page and "「New」を表示する日数" in page and client.email in page

    confirm = client.get("/admin/settings/history/1/rollback").get_data(as_text=True)
    assert "No.1 の状態に戻す" in confirm and "08:00" in confirm and "06:00" in confirm
    response = client.submit("/admin/settings/history/1/rollback", {})
    assert response.headers["Location"] == "/admin/settings/history"
    settings = city(app, "kanazawa").settings
    assert settings["service_hours"] == {"open": "06:00", "close": "02:00"}
    assert settings["notices"]["new_badge_days"] == 7
    number, action, _, restored, changes, overrides = revisions(app, kanazawa)[-1]
    assert (number, action, restored, overrides) == (4, "rollback", 1, {"service_hours": {"open": "06:00"}})
    assert {c["key"] for c in changes} == {"service_hours.open", "service_hours.close", "notices.new_badge_days"}
    assert audit_entries(kanazawa, "settings.rollback")[0][3]["restored_from"] == 1

    client.submit("/admin/settings/history/0/rollback", {})
    assert tenant_state(app, "kanazawa")[1] == {}
    assert city(app, "kanazawa").settings["service_hours"]["open"] == "07:00"
    assert client.get("/admin/settings/history/99/rollback").status_code == 404
    assert client.get("/admin/settings/nothing").status_code == 404


def test_a_value_set_back_to_tenant_toml_follows_tenant_toml_again(app, staff_client):
    client = staff_client("kanazawa")
    settings_post(client, "hours", {"service_hours.open": "06:00"})
    settings_post(client, "hours", {"service_hours.open": "07:00"})
    assert tenant_state(app, "kanazawa")[1] == {}


def test_saving_unchanged_values_records_nothing(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    response = settings_post(client, "pages", {})
    assert "変更はありませんでした。" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert revisions(app, kanazawa) == []


def test_tenant_apply_keeps_the_city_admins_overrides(app, staff_client, runner):
    from waterportal.provisioning.services import apply_definition, read_definition

    client = staff_client("kanazawa")
    settings_post(client, "hours", {"service_hours.open": "06:00"})
    with app.app_context():
        definition = read_definition(TENANTS_DIR / "kanazawa")
        definition["texts"]["about"] = "設定ファイルで更新した説明"
        definition["service_hours"]["close"] = "01:00"
        result = apply_definition(definition)
        db.session.commit()
        assert result.changes == ["service_hours.close", "texts.about"]
    settings = city(app, "kanazawa").settings
    assert settings["service_hours"] == {"open": "06:00", "close": "01:00"}  # console <- toml
    assert settings["texts"]["about"] == "設定ファイルで更新した説明"
    assert tenant_state(app, "kanazawa")[1] == {"service_hours": {"open": "06:00"}}


def test_overrides_broken_by_a_newer_tenant_toml_are_skipped_and_reported(app, staff_client):
    from waterportal.provisioning.services import apply_definition, read_definition

    client = staff_client("kanazawa")
    assert settings_post(client, "branding", {"branding.primary_color": "#000000"}).status_code == 302
    with app.app_context():
        definition = read_definition(TENANTS_DIR / "kanazawa")
        definition["branding"]["primary_text_color"] = "#111111"
        definition["branding"]["primary_color"] = "#ffffff"
        apply_definition(definition)
        db.session.commit()
    assert city(app, "kanazawa").settings["branding"]["primary_color"] == "#ffffff"  # tenant.toml wins, city stays up
    body = client.get("/admin/settings").get_data(as_text=True)
    assert "管理画面で変更した次の設定が無効になっています" in body


def test_only_city_owned_keys_can_be_overridden(app, staff_client, kanazawa):
    from waterportal.admin.settings.services import apply_overrides

    client = staff_client("kanazawa")
    settings_post(client, "hours", {"login.mode": "email", "theme": "evil"})
    assert city(app, "kanazawa").login_mode == "login_id"
    with app.app_context(), tenant_context(kanazawa):
        for bad in ({"login": {"mode": "email"}}, {"hosts": ["x.example"]}, {"branding": {"logo": "../../nayoro/assets/logo.svg"}},
                    {"texts": None}):
            with pytest.raises(SettingsInvalid):
                apply_overrides(kanazawa, bad, actor="test")


def test_a_stale_form_is_refused_instead_of_overwriting_another_change(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    data = form_fields(client.get("/admin/settings/hours").get_data(as_text=True))
    settings_post(client, "console", {"notices.new_badge_days": "3"})  # someone else saves meanwhile
    data.update({"service_hours.open": "06:00", "action": "save"})
    body = client.post("/admin/settings/hours", data=data).get_data(as_text=True)
    assert "この画面を開いた後に、設定が他の操作で変更されました" in body and 'value="06:00"' in body
    assert [r[0] for r in revisions(app, kanazawa)] == [1]


def test_service_hours_can_be_switched_off(app, staff_client, client_for):
    client = staff_client("kanazawa")
    settings_post(client, "hours", {"service_hours.__none__": "1"})
    assert city(app, "kanazawa").settings["service_hours"] is None
    with time_machine.travel(dt.datetime(2026, 11, 18, 4, 0, tzinfo=TOKYO), tick=False):
        assert client_for("kanazawa").get("/faq").status_code == 200
    body = client.get("/admin/settings/hours").get_data(as_text=True)
    assert re.search(r'name="service_hours.__none__" value="1" checked', body)


def test_console_settings(app, staff_client):
    client = staff_client("nayoro")
    settings_post(client, "console", {"admin.require_totp": "1", "admin.session_idle_minutes": "30", "notices.new_badge_days": "14"})
    assert dict(city(app, "nayoro").settings["admin"]) == {"require_totp": True, "session_idle_minutes": 30}
    body = settings_post(client, "console", {"admin.session_idle_minutes": "600"}).get_data(as_text=True)
    assert "5〜60の範囲で入力してください。" in body
