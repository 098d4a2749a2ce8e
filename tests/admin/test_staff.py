"""職員の管理: a city admin adds staff (one-time password), disables and re-enables them."""
from __future__ import annotations

import re

import pyotp

from tests.admin.conftest import login_staff


def test_an_admin_adds_staff_who_must_choose_their_own_password(staff_client, client_for, kanazawa, audit_entries):
    admin = staff_client("kanazawa")
    response = admin.submit("/admin/staff/new", {"email": "Tanto@Kanazawa.example.jp", "name": "担当 花子", "role": "operator"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "この画面を閉じると再表示できません" in body
    password = re.search(r'<p class="secret"><code>([^<]+)</code>', body).group(1)
    with admin.session_transaction(base_url="http://kanazawa.localhost") as session:
        assert password not in str(dict(session))  # never through the cookie
    listing = admin.get("/admin/staff").get_data(as_text=True)
    assert "tanto@kanazawa.example.jp" in listing and "オペレーター" in listing

    newcomer = client_for("kanazawa")
    assert login_staff(newcomer, "tanto@kanazawa.example.jp", password.replace("&amp;", "&")).headers["Location"] == "/admin/account/password"
    actor, _, _, detail, _ = audit_entries(kanazawa, "staff.create")[0]
    assert actor == f"staff:{admin.staff_id}" and detail == {"email": "tanto@kanazawa.example.jp", "role": "operator"}


def test_staff_form_errors_are_next_to_each_field(staff_client, make_staff, kanazawa):
    admin = staff_client("kanazawa")
    body = admin.submit("/admin/staff/new", {"email": "tanto@", "name": "", "role": "boss"}).get_data(as_text=True)
    assert re.search(r'id="email-error">メールアドレスの形式が正しくありません。', body)
    assert re.search(r'id="name-error">氏名を入力してください。', body)
    assert re.search(r'id="role-error">権限を選択してください。', body)
    assert 'value="tanto@"' in body
    make_staff(kanazawa, email="dup@kanazawa.example.jp")
    body = admin.submit("/admin/staff/new", {"email": "dup@kanazawa.example.jp", "name": "重複", "role": "admin"}).get_data(as_text=True)
    assert re.search(r'id="email-error">このメールアドレスの職員はすでに登録されています。', body)


def test_disabling_staff_ends_their_sessions_at_once(staff_client, kanazawa, audit_entries):
    admin = staff_client("kanazawa")
    operator = staff_client("kanazawa", role="operator")
    assert operator.get("/admin/notices").status_code == 200
    admin.submit(f"/admin/staff/{operator.staff_id}/disable", {}, form_page="/admin/staff")
    assert operator.get("/admin/notices").status_code == 302
    assert "無効" in admin.get("/admin/staff").get_data(as_text=True)
    assert login_staff(operator, operator.email).status_code == 200  # refused
    admin.submit(f"/admin/staff/{operator.staff_id}/enable", {}, form_page="/admin/staff")
    assert login_staff(operator, operator.email).status_code == 302
    assert [e[1] for e in audit_entries(kanazawa) if e[1] in ("staff.disable", "staff.enable")] == ["staff.disable", "staff.enable"]


def test_an_admin_cannot_disable_themselves(staff_client):
    admin = staff_client("kanazawa")
    response = admin.submit(f"/admin/staff/{admin.staff_id}/disable", {}, form_page="/admin/staff")
    assert "自分自身を無効にすることはできません。" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200


def test_an_admin_resets_a_lost_second_factor(app, staff_client, make_staff, kanazawa, client_for, audit_entries):
    staff_id = make_staff(kanazawa, email="phone-lost@kanazawa.example.jp", totp_secret=pyotp.random_base32())
    admin = staff_client("kanazawa")
    admin.submit(f"/admin/staff/{staff_id}/reset-totp", {}, form_page="/admin/staff")
    assert login_staff(client_for("kanazawa"), "phone-lost@kanazawa.example.jp").headers["Location"] == "/admin/"
    assert audit_entries(kanazawa, "staff.totp_disable")[0][:3] == (f"staff:{admin.staff_id}", "staff.totp_disable", f"staff:{staff_id}")


def test_staff_of_another_city_cannot_be_touched(staff_client, make_staff, nayoro, client_for):
    other = make_staff(nayoro, email="soumu@nayoro.example.jp")
    admin = staff_client("kanazawa")
    assert admin.submit(f"/admin/staff/{other}/disable", {}, form_page="/admin/staff").status_code == 404
    assert login_staff(client_for("nayoro"), "soumu@nayoro.example.jp").status_code == 302
