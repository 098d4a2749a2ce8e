"""会員サポート: search (normalised input, pages, form errors), a member's status without
secrets, and the support actions, each audited as the staff member with their address."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from waterportal.accounts.models import Member, MemberSession
from waterportal.accounts.secret import hash_answer
from waterportal.accounts.verification import issue_code
from waterportal.contracts.models import MemberContract
from waterportal.core import throttle
from waterportal.core.auth.throttling import MEMBER as MEMBER_LOGIN
from waterportal.extensions import db
from waterportal.mypage.account.services import CHANGE_EMAIL, code_subject
from waterportal.tenancy.context import tenant_context


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def link(app):
    """``link(city, member_id, contract_id, label="")`` -> the MemberContract id."""

    def make(tenant, member_id, contract_id, label=""):
        with app.app_context(), tenant_context(tenant):
            row = MemberContract(member_id=member_id, contract_id=contract_id, label=label)
            db.session.add(row)
            db.session.commit()
            return row.id

    return make


@pytest.fixture
def member_row(app):
    """``member_row(city, member_id)`` -> a dict of the member's columns."""

    def read(tenant, member_id):
        with app.app_context(), tenant_context(tenant):
            member = db.session.scalar(select(Member).where(Member.id == member_id))
            return {c.name: getattr(member, c.name) for c in Member.__table__.columns}

    return read


def search(client, kind, q, **extra):
    return text(client.get("/admin/members", query_string={"kind": kind, "q": q, **extra}))


def test_an_operator_finds_a_member_by_customer_number_typed_any_way(staff_client, nayoro, make_member, make_contract, link):
    member_id = make_member(nayoro, email="taro@example.jp")
    contract_id = make_contract(nayoro, customer_number="01234567890", holder_name="水道 太郎")
    link(nayoro, member_id, contract_id, label="自宅")
    operator = staff_client("nayoro", role="operator")
    for typed in ("01234567890", "０１２３-４５６７-８９０", " 0123 4567 890 ", "0123456"):
        page = search(operator, "customer_number", typed)
        assert "検索結果(1件)" in page, typed
        assert f'href="/admin/members/{member_id}"' in page and "taro@example.jp" in page
    assert "検索結果(0件)" in search(operator, "customer_number", "01234567891")


def test_a_contract_nobody_registered_is_named(staff_client, nayoro, make_contract):
    make_contract(nayoro, customer_number="09999999999", holder_name="未登録 花子")
    page = search(staff_client("nayoro"), "customer_number", "09999999999")
    assert "お客様番号 09999999999(未登録 花子 様)の契約はありますが、この番号を登録している会員はいません。" in page


def test_search_by_email_login_id_and_kana(staff_client, nayoro, kanazawa, make_member, make_contract, link):
    taro = make_member(nayoro, email="Suido.Taro@example.jp".lower())
    link(nayoro, taro, make_contract(nayoro, holder_name_kana="スイドウタロウ"))
    hanako = make_member(nayoro, email="hanako@example.jp")
    link(nayoro, hanako, make_contract(nayoro, holder_name_kana="ゲスイハナコ"))
    admin = staff_client("nayoro")
    assert "検索結果(1件)" in (page := search(admin, "email", " SUIDO.taro@ "))
    assert "suido.taro@example.jp" in page and "hanako@example.jp" not in page
    page = search(admin, "kana", "げすい はなこ")  # hiragana with a space: normalised to katakana
    assert "検索結果(1件)" in page and "hanako@example.jp" in page
    assert "検索結果(1件)" in search(admin, "kana", "ｹﾞｽｲ")  # half-width katakana, partial

    make_member(kanazawa, email="k@example.jp", login_id="Kaga2026")
    kanazawa_admin = staff_client("kanazawa")
    page = search(kanazawa_admin, "login_id", "kaga20")
    assert "検索結果(1件)" in page and "Kaga2026" in page
    # The same email in the other city is not this city's member.
    assert "検索結果(0件)" in search(kanazawa_admin, "email", "suido.taro@example.jp")


def test_search_results_come_in_pages(staff_client, nayoro, make_member):
    for n in range(23):
        make_member(nayoro, email=f"page{n:02d}@example.jp")
    admin = staff_client("nayoro")
    first = search(admin, "email", "page")
    assert "検索結果(23件)" in first and "1 / 2ページ" in first and first.count('href="/admin/members/') == 20
    assert "page22@example.jp" in first and "page02@example.jp" not in first  # newest first
    second = search(admin, "email", "page", page=2)
    assert second.count('href="/admin/members/') == 3 and "page02@example.jp" in second
    assert re.search(r'<a href="/admin/members\?[^"]*page=1[^"]*">前へ</a>', second) and "次へ" not in second


@pytest.mark.parametrize(("kind", "q", "message"), [
    ("customer_number", "", "検索する値を入力してください。"),
    ("customer_number", "abc-123", "お客様番号は数字で入力してください(ハイフン・全角数字も使えます)。"),
    ("kana", "Taro", "お客様氏名カナはカタカナまたはひらがなで入力してください。"),
    ("email", "@", "メールアドレスは3文字以上入力してください。"),
    ("phone", "0165", "検索項目を選択してください。"),
    ("email", "x" * 255, "254文字以内で入力してください。"),
])
def test_search_form_errors_are_next_to_their_field(staff_client, kind, q, message):
    page = search(staff_client("nayoro", role="operator"), kind, q)
    field = "kind" if kind == "phone" else "q"
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page), page
    assert "検索結果" not in page
    if q and field == "q":
        assert f'value="{q}"' in page  # the input is kept


def test_member_status_shows_what_support_needs_and_no_secret(app, staff_client, nayoro, make_member, make_contract, link):
    member_id = make_member(nayoro, email="taro@example.jp", secret_question="母親の旧姓は?",
                            secret_answer_hash=hash_answer("やまだ"), data_visible_from=dt.date(2026, 6, 12),
                            last_login_at=dt.datetime(2026, 6, 9, 1, 30))
    link(nayoro, member_id, make_contract(nayoro, customer_number="01111111111"), label="自宅")
    link(nayoro, member_id, make_contract(nayoro, customer_number="02222222222"), label="実家")
    with app.app_context(), tenant_context(nayoro):
        member = db.session.get(Member, member_id)
        code = issue_code(nayoro, CHANGE_EMAIL, "new@example.jp", code_subject(member), 30)
        db.session.add(MemberSession(member_id=member_id, key_hash="a" * 64))
        db.session.commit()
        password_hash, answer_hash = member.password_hash, member.secret_answer_hash
    page = text(staff_client("nayoro", role="operator").get(f"/admin/members/{member_id}"))
    for shown in ("taro@example.jp", "確認済み", "new@example.jp への変更を確認待ち", "01111111111", "自宅",
                  "02222222222", "実家", "2026-06-09 10:30", "ログイン中の端末</dt><dd>1件",
                  "2026年6月12日(金)から", "設定済み", "ログイン(パスワードの誤り)", "お客様番号 01111111111 の照合"):
        assert shown in page, shown
    for secret in (password_hash, answer_hash, "やまだ", code, "母親の旧姓は?"):
        assert secret not in page


def test_lifting_a_throttle_lets_the_member_log_in_again(staff_client, client_for, nayoro, make_member, audit_entries):
    member_id = make_member(nayoro, email="taro@example.jp")
    citizen = client_for("nayoro")
    for _ in range(5):
        citizen.submit("/login", {"identifier": "taro@example.jp", "password": "wrong-password"})
    blocked = citizen.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
    assert blocked.status_code == 429
    operator = staff_client("nayoro", role="operator")
    page = text(operator.get(f"/admin/members/{member_id}"))
    assert "5 / 5回" in page and "制限中" in page
    ident = f"{MEMBER_LOGIN.account.name}:taro@example.jp"
    response = operator.submit(f"/admin/members/{member_id}/throttles/clear", {"throttle": ident},
                               form_page=f"/admin/members/{member_id}")
    assert response.status_code == 302
    assert "「ログイン(パスワードの誤り)」の制限を解除しました。" in text(operator.get(response.headers["Location"]))
    assert citizen.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"}).status_code == 302
    actor, _, target, detail, addr = audit_entries(nayoro, "member.throttle_cleared")[0]
    assert (actor, target, addr) == (f"staff:{operator.staff_id}", f"member:{member_id}", "127.0.0.1")
    assert detail == {"rule": "login-account", "used": 5}


def test_only_the_members_own_throttles_can_be_lifted(app, staff_client, nayoro, make_member, audit_entries):
    member_id = make_member(nayoro, email="taro@example.jp")
    with app.app_context():
        for _ in range(30):
            throttle.hit(nayoro, MEMBER_LOGIN.address, "203.0.113.9")
    admin = staff_client("nayoro")
    response = admin.submit(f"/admin/members/{member_id}/throttles/clear",
                            {"throttle": f"{MEMBER_LOGIN.address.name}:203.0.113.9"},
                            form_page=f"/admin/members/{member_id}")
    assert "解除する制限が見つかりません。" in text(admin.get(response.headers["Location"]))
    with app.app_context():
        assert not throttle.allowed(nayoro, MEMBER_LOGIN.address, "203.0.113.9")
    assert audit_entries(nayoro, "member.throttle_cleared") == []


def test_resending_the_email_change_code(app, staff_client, nayoro, make_member, audit_entries):
    from tests.registration_support import mails

    member_id = make_member(nayoro, email="taro@example.jp")
    admin = staff_client("nayoro")
    response = admin.submit(f"/admin/members/{member_id}/verification/resend", {}, form_page=f"/admin/members/{member_id}")
    assert "確認待ちのメールアドレス変更はありません。" in text(admin.get(response.headers["Location"]))
    with app.app_context(), tenant_context(nayoro):
        member = db.session.get(Member, member_id)
        issue_code(nayoro, CHANGE_EMAIL, "new@example.jp", code_subject(member), 30)
        db.session.commit()
    import time_machine

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2), tick=False):
        response = admin.submit(f"/admin/members/{member_id}/verification/resend", {},
                                form_page=f"/admin/members/{member_id}")
        assert "new@example.jp 宛てに新しい確認コードを送信しました。" in text(admin.get(response.headers["Location"]))
        # Straight away again: the citizen's own resend interval applies to staff too.
        again = admin.submit(f"/admin/members/{member_id}/verification/resend", {},
                             form_page=f"/admin/members/{member_id}")
        assert "再送信は" in text(admin.get(again.headers["Location"]))
    assert len(mails(app, nayoro, to="new@example.jp", kind="email_change_code")) == 1
    entries = audit_entries(nayoro, "member.verification_resent")
    assert [(e[0], e[2], e[3]) for e in entries] == [(f"staff:{admin.staff_id}", f"member:{member_id}", {"email": "new@example.jp"})]


def test_ending_a_members_sessions_logs_them_out_everywhere(staff_client, client_for, nayoro, make_member, member_row, audit_entries):
    member_id = make_member(nayoro, email="taro@example.jp")
    phone, laptop = client_for("nayoro"), client_for("nayoro")
    for device in (phone, laptop):
        assert device.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"}).status_code == 302
        assert device.get("/mypage").status_code == 200
    admin = staff_client("nayoro", role="operator")
    assert "ログイン中の端末</dt><dd>2件" in text(admin.get(f"/admin/members/{member_id}"))
    response = admin.submit(f"/admin/members/{member_id}/sessions/end", {}, form_page=f"/admin/members/{member_id}")
    assert "すべてのログイン状態を終了しました(2件)。" in text(admin.get(response.headers["Location"]))
    for device in (phone, laptop):
        assert device.get("/mypage").headers["Location"].startswith("/login")
    assert member_row(nayoro, member_id)["session_version"] == 2
    assert audit_entries(nayoro, "member.sessions_ended")[0][:4] == (
        f"staff:{admin.staff_id}", "member.sessions_ended", f"member:{member_id}", {"sessions": 2})


def test_unlinking_a_contract_after_confirming(staff_client, nayoro, make_member, make_contract, link, audit_entries):
    member_id = make_member(nayoro, email="taro@example.jp")
    kept = link(nayoro, member_id, make_contract(nayoro, customer_number="01111111111"))
    gone = link(nayoro, member_id, make_contract(nayoro, customer_number="02222222222", holder_name="旧 名義"))
    other_member = make_member(nayoro, email="other@example.jp")
    others = link(nayoro, other_member, make_contract(nayoro, customer_number="03333333333"))
    admin = staff_client("nayoro", role="operator")
    confirm = text(admin.get(f"/admin/members/{member_id}/contracts/{gone}/unlink"))
    assert "お客様番号 <strong>02222222222</strong>(旧 名義 様" in confirm and "登録を解除する" in confirm
    assert admin.get(f"/admin/members/{member_id}/contracts/{others}/unlink").status_code == 404
    response = admin.submit(f"/admin/members/{member_id}/contracts/{gone}/unlink", {})
    page = text(admin.get(response.headers["Location"]))
    assert "お客様番号 02222222222 の登録を解除しました。" in page
    assert "01111111111" in page and "登録している契約(1件)" in page
    assert f"/contracts/{kept}/unlink" in page
    actor, _, target, detail, addr = audit_entries(nayoro, "member.contract_unlinked")[0]
    assert (actor, target, detail["customer_number"], addr) == (f"staff:{admin.staff_id}", f"member:{member_id}", "02222222222", "127.0.0.1")


def test_another_citys_member_is_not_found(staff_client, kanazawa, make_member):
    other = make_member(kanazawa, email="k@example.jp", login_id="kaga2026")
    admin = staff_client("nayoro")
    assert admin.get(f"/admin/members/{other}").status_code == 404
    token = admin.csrf_token("/admin/members")
    for path in ("sessions/end", "verification/resend", "throttles/clear"):
        assert admin.post(f"/admin/members/{other}/{path}", data={"csrf_token": token}).status_code == 404


def test_support_actions_need_the_csrf_token(staff_client, nayoro, make_member):
    member_id = make_member(nayoro, email="taro@example.jp")
    admin = staff_client("nayoro")
    assert admin.post(f"/admin/members/{member_id}/sessions/end", data={}).status_code == 400
