"""Registration in the email style (Nayoro): 1/4 code, 2/4 details, 3/4 confirm, 4/4 done."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.registration_support import (
    PASSWORDS,
    Registration,
    count_rows,
    details_data,
    latest_code,
    mails,
    page,
)
from waterportal.accounts.models import Member, VerificationCode
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.audit.models import AuditEntry
from waterportal.contracts.models import MemberContract
from waterportal.core.auth.passwords import verify_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

EMAIL = "taro@example.jp"




# --- 1/4 メールアドレス登録 ------------------------------------------------------------


def test_start_page_has_the_manuals_wording(client, clock):
    body = page(client.get("/register/"))
    assert "1/4" in body and "メールアドレス登録" in body
    assert (
        "会員登録にあたり、本人確認のためご指定のメールアドレス宛に認証コードを送信します。"
        "noreply@nayoro.localhostからのメールが受信できることをご確認ください。"
    ) in body
    assert '<label for="email" class="required">メールアドレス</label>' in body
    assert "認証コードの送信</button>" in body
    assert re.search(r'<a class="button secondary" href="/login">戻る</a>', body)
    assert 'name="code"' not in body


def test_the_login_page_leads_here(client, clock):
    assert 'href="/register/"' in page(client.get("/login"))


def test_sending_a_code_mails_six_digits_and_shows_the_code_step(app, reg, nayoro):
    sent = reg.send_code("  Taro@Example.JP ")
    assert sent.status_code == 302 and sent.location.endswith("/register/verify")
    [mail] = mails(app, nayoro, kind="verification_code")
    assert mail["to"] == EMAIL
    assert mail["subject"] == "認証コードのお知らせ"
    assert "noreply@nayoro.localhost" in mail["sender"]
    assert "「名寄市上下水道ポータル」利用をご希望のお客様へ。" in mail["body"]
    assert "ユーザ登録画面にて、以下の認証コードをご入力ください。" in mail["body"]
    assert re.search(r"認証コード: \d{6}\n", mail["body"])
    assert "有効時間は30分です" in mail["body"]

    body = page(reg.client.get("/register/verify"))
    assert "taro@example.jp 宛に認証コードを送信しました。" in body
    assert "メールに記載された認証コードを入力してください。" in body
    assert re.search(r'<input[^>]*autocomplete="one-time-code"[^>]*inputmode="numeric"[^>]*name="code"', body)
    assert "次へ</button>" in body
    assert '<a href="/register/help">メールが届かない場合はこちら</a>' in body


def test_the_code_is_stored_only_as_a_keyed_hash(app, reg, nayoro):
    reg.send_code(EMAIL)
    code = latest_code(app, nayoro, EMAIL)
    with app.app_context(), tenant_context(nayoro):
        row = db.session.scalars(select(VerificationCode)).one()
        stored = " ".join(str(getattr(row, c.key)) for c in VerificationCode.__table__.columns)
    assert code not in stored
    assert len(row.code_hash) == 64 and row.attempts == 0 and row.used_at is None
    assert (row.expires_at - row.created_at).total_seconds() == 30 * 60


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "メールアドレスを入力してください。"),
        ("taro.example.jp", "メールアドレスの形式が正しくありません(例: suido@example.jp)。"),
        ("taro@localhost", "メールアドレスの形式が正しくありません(例: suido@example.jp)。"),
    ],
)
def test_email_errors_are_japanese_and_keep_the_input(app, reg, nayoro, typed, message):
    response = reg.send_code(typed)
    body = page(response)
    assert response.status_code == 200
    assert f'<p class="error" id="email-error">{message}</p>' in body
    if typed:
        assert f'value="{typed}"' in body
    assert mails(app, nayoro) == []
    assert count_rows(app, nayoro, RegistrationDraft) == 0


def test_full_width_email_is_normalised(app, reg, nayoro):
    reg.send_code("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ")
    assert mails(app, nayoro)[0]["to"] == EMAIL


def test_code_typed_with_full_width_digits_works(app, reg, nayoro):
    reg.send_code(EMAIL)
    code = latest_code(app, nayoro, EMAIL)
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = reg.enter_code(wide)
    assert response.status_code == 302 and response.location.endswith("/register/details")


def test_malformed_and_wrong_codes(app, reg, nayoro):
    reg.send_code(EMAIL)
    code = latest_code(app, nayoro, EMAIL)
    body = page(reg.enter_code("12345"))
    assert "認証コードはメールに記載された6桁の数字で入力してください。" in body
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = page(reg.enter_code(wrong))
    assert "認証コードが正しくありません。メールに記載された認証コードを入力してください(あと4回入力できます)。" in body
    assert f'value="{wrong}"' in body


@pytest.mark.parametrize(("minutes", "seconds", "works"), [(29, 59, True), (30, 1, False)])
def test_code_lives_thirty_minutes(app, reg, nayoro, clock, minutes, seconds, works):
    reg.send_code(EMAIL)
    code = latest_code(app, nayoro, EMAIL)
    clock.shift(minutes=minutes, seconds=seconds)
    response = reg.enter_code(code)
    if works:
        assert response.status_code == 302 and response.location.endswith("/register/details")
    else:
        assert response.status_code == 200
        assert (
            "認証コードの有効期限(30分)が切れています。「認証コードの送信」を押して、新しい認証コードを受け取ってください。"
        ) in page(response)
        assert reg.client.get("/register/details").location.endswith("/register/verify")


def test_code_works_once(app, nayoro, clock):
    from waterportal.accounts.verification import CodeStatus, check_code, issue_code

    with app.test_request_context(), tenant_context(nayoro):
        code = issue_code(nayoro, "register", EMAIL, "draft:1", 30)
        assert check_code(nayoro, "register", EMAIL, "draft:1", code).ok
        again = check_code(nayoro, "register", EMAIL, "draft:1", code)
        assert again.status is CodeStatus.USED
        # Bound to its subject: the same code in another registration finds nothing.
        assert check_code(nayoro, "register", EMAIL, "draft:2", code).status is CodeStatus.MISSING


def test_five_wrong_tries_kill_the_code(app, reg, nayoro):
    reg.send_code(EMAIL)
    code = latest_code(app, nayoro, EMAIL)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        assert f"あと{left}回入力できます" in page(reg.enter_code(wrong))
    killed = "認証コードの入力を5回間違えたため、この認証コードは無効になりました。"
    assert killed in page(reg.enter_code(wrong))
    response = reg.enter_code(code)
    assert response.status_code == 200 and killed in page(response)


def test_a_new_code_kills_the_old_one(app, reg, nayoro, clock):
    reg.send_code(EMAIL)
    old = latest_code(app, nayoro, EMAIL)
    clock.shift(seconds=61)
    resent = reg.client.submit("/register/resend", {}, form_page="/register/help")
    assert resent.status_code == 302
    assert "以前の認証コードは使えません" in page(reg.client.get("/register/verify"))
    new = latest_code(app, nayoro, EMAIL)
    assert len(mails(app, nayoro, kind="verification_code")) == 2
    if old != new:  # one in a million they coincide; the old row is revoked either way
        assert "認証コードが正しくありません" in page(reg.enter_code(old))
    assert reg.enter_code(new).location.endswith("/register/details")


def test_resend_is_throttled_to_once_a_minute(app, reg, nayoro, clock):
    reg.send_code(EMAIL)
    again = reg.send_code(EMAIL)
    assert again.location.endswith("/register/verify")
    assert "認証コードは送信済みです。再送信は60秒後から行えます。" in page(reg.client.get("/register/verify"))
    clock.shift(seconds=59)
    reg.client.submit("/register/resend", {}, form_page="/register/help")
    assert "再送信は1秒後から行えます。" in page(reg.client.get("/register/verify"))
    assert len(mails(app, nayoro)) == 1
    clock.shift(seconds=1)
    reg.client.submit("/register/resend", {}, form_page="/register/help")
    assert len(mails(app, nayoro)) == 2


def test_at_most_six_codes_an_hour_per_address(app, reg, nayoro, clock):
    reg.send_code(EMAIL)
    for _ in range(5):
        clock.shift(seconds=61)
        reg.client.submit("/register/resend", {}, form_page="/register/help")
    assert len(mails(app, nayoro)) == 6
    clock.shift(seconds=61)
    reg.client.submit("/register/resend", {}, form_page="/register/help")
    # Sent at 0, 61, ..., 305 s; now 366 s: the first send leaves the hour in 3234 s.
    assert "認証コードの送信回数が上限に達しました。約54分後に再度お試しください。" in page(reg.client.get("/register/verify"))
    assert len(mails(app, nayoro)) == 6


def test_one_client_cannot_mail_many_addresses(app, reg, nayoro, client_for):
    for n in range(20):
        assert reg.send_code(f"person{n}@example.jp").status_code == 302
    refused = reg.send_code("person20@example.jp")
    assert refused.status_code == 200
    assert "認証コードの送信回数が上限に達しました。約60分後に再度お試しください。" in page(refused)
    assert len(mails(app, nayoro)) == 20
    elsewhere = client_for("nayoro")
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert Registration(app, elsewhere, nayoro).send_code("person20@example.jp").status_code == 302


def test_another_browser_cannot_bomb_an_address(app, client_for, nayoro, clock):
    first, second = Registration(app, client_for("nayoro"), nayoro), Registration(app, client_for("nayoro"), nayoro)
    first.send_code(EMAIL)
    refused = second.send_code(EMAIL)
    assert refused.status_code == 200
    assert "認証コードは送信済みです。再送信は60秒後から行えます。" in page(refused)
    assert len(mails(app, nayoro)) == 1


def test_help_page_explains_and_resends(app, reg, nayoro, clock):
    assert "メールが届かない場合" in page(reg.client.get("/register/help"))
    reg.send_code(EMAIL)
    body = page(reg.client.get("/register/help"))
    for text in ("迷惑メールフォルダ", "noreply@nayoro.localhost", "ドメイン「nayoro.localhost」", EMAIL, "認証コードを再送信する"):
        assert text in body
    assert 'action="/register/resend"' in body


def test_registered_email_is_not_revealed(app, client_for, nayoro, make_member, clock):
    make_member(nayoro, email="known@example.jp")
    known, fresh = Registration(app, client_for("nayoro"), nayoro), Registration(app, client_for("nayoro"), nayoro)
    a, b = known.send_code("known@example.jp"), fresh.send_code("new@example.jp")
    assert (a.status_code, a.location) == (b.status_code, b.location)
    page_a = re.sub(r'value="[^"]+"', "", page(known.client.get("/register/verify"))).replace("known@", "X@")
    page_b = re.sub(r'value="[^"]+"', "", page(fresh.client.get("/register/verify"))).replace("new@", "X@")
    assert page_a == page_b
    # The registered address gets a notice with the login link, and no code.
    [notice] = mails(app, nayoro, to="known@example.jp")
    assert notice["kind"] == "already_registered"
    assert "既に会員登録されています" in notice["body"]
    assert "http://nayoro.localhost/login" in notice["body"]
    assert not re.search(r"\d{6}", notice["body"].split("――")[0])
    # Any code fails the same way as a wrong one does.
    assert "認証コードが正しくありません" in page(known.enter_code("123456"))


# --- 2/4 会員情報入力 ------------------------------------------------------------------


def test_details_page_wording(reg):
    reg.verify(EMAIL)
    body = page(reg.client.get("/register/details"))
    for text in (
        "2/4", "会員情報入力", f"<p>{EMAIL}(確認済み)</p>",
        '<label for="nickname" class="required">お名前(ニックネームでも登録いただけます)</label>',
        '<label for="password" class="required">パスワード</label>',
        "以下の条件を満たすパスワードを使用してください。",
        '<li data-rule="length">半角英数字8文字以上</li>', '<li data-rule="upper">アルファベット大文字を含む</li>',
        '<li data-rule="symbol">記号(!?#$&amp;()-_)を含む</li>',
        '<label for="customer_number" class="required">お客様番号</label>',
        "上下水道料金のお知らせ(検針票)に記載の11桁のお客様番号をハイフン抜きで入力してください。",
        '<label for="phone" class="required">電話番号</label>',
        "上下水道室に届け出た電話番号の入力となりますので注意してください。また、ハイフンを除いた数字で入力してください。",
        '<label for="holder_kana" class="required">お客様氏名カナ</label>',
        "上下水道室に届け出た契約者名をカタカナで入力してください。",
        '<legend class="required">利用規約</legend>', '<legend class="required">個人情報の取り扱いについて</legend>',
        'href="/pages/terms" target="_blank" rel="noopener"', 'href="/pages/privacy" target="_blank" rel="noopener"',
        '<legend class="required">申込者と契約者の関係</legend>', "キャンセル</button>", "確認</button>",
        "password-policy.js",
    ):
        assert text in body, text
    assert body.count("同意する</label>") == 2
    for label in ("本人", "家族", "その他", "アプリ決済に切り替えない", "クレジットカード決済に切り替える"):
        assert f"> {label}</label>" in body
    assert re.search(r'<input checked[^>]*value="本人"', body)
    assert re.search(r'<input checked[^>]*value="アプリ決済に切り替えない"', body)
    assert "ログインID" not in body and "秘密の質問" not in body


def test_every_details_error_sits_next_to_its_field(reg):
    reg.verify(EMAIL)
    response = reg.client.submit("/register/details", {"relationship": "", "payment_method": "なし"})
    body = page(response)
    assert response.status_code == 200
    expected = {
        "nickname": "お名前を入力してください。",
        "password": "パスワードを入力してください。",
        "password_confirm": "確認のため、パスワードをもう一度入力してください。",
        "customer_number": "お客様番号を入力してください。",
        "phone": "電話番号を入力してください。",
        "holder_kana": "お客様氏名カナを入力してください。",
        "agree_terms": "利用規約をお読みいただき、「同意する」にチェックを入れてください。",
        "agree_privacy": "個人情報の取り扱いについてお読みいただき、「同意する」にチェックを入れてください。",
        "relationship": "申込者と契約者の関係を選択してください。",
        "payment_method": "支払方法を選択してください。",
    }
    for field, message in expected.items():
        assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}', body), field
    assert "入力内容に誤りがあります。" in body


def test_invalid_values_are_explained_and_kept(reg):
    reg.verify(EMAIL)
    data = details_data(
        reg.tenant, "12345", phone="01-2345", holder_kana="Suido Taro", password="short", password_confirm="other"
    )
    body = page(reg.client.submit("/register/details", data))
    for message in (
        "お客様番号は11桁の数字で入力してください(ハイフンは不要です)。",
        "電話番号は市外局番から、ハイフンを除いた数字(10桁または11桁)で入力してください。",
        "お客様氏名カナはカタカナで入力してください(例: スイドウタロウ)。",
        "パスワードは8文字以上で入力してください。",
        "アルファベット大文字を含めてください。",
        "パスワードとパスワード(確認用)が一致しません。",
    ):
        assert message in body, message
    for kept in ('value="水道太郎"', 'value="12345"', 'value="01-2345"', 'value="Suido Taro"'):
        assert kept in body
    assert 'value="short"' not in body and 'value="other"' not in body


def test_password_follows_the_citys_policy(reg):
    reg.verify(EMAIL)
    body = page(reg.fill_details("00123456789", password="Suido2026abc", password_confirm="Suido2026abc"))
    assert '<p class="error" id="password-error">記号(!?#$&amp;()-_)を含めてください。</p>' in body
    body = page(reg.fill_details("00123456789", password="Password", password_confirm="Password"))
    assert "よく使われていて推測されやすいパスワードです。" in body
    body = page(reg.fill_details("00123456789", password="すいどう", password_confirm="すいどう"))
    assert "使用できない文字が含まれています" in body


def test_cancel_forgets_the_registration(app, reg, nayoro):
    reg.verify(EMAIL)
    response = reg.client.submit("/register/cancel", {}, form_page="/register/details")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert count_rows(app, nayoro, RegistrationDraft) == 0
    assert reg.client.get("/register/details").location.endswith("/register/")


# --- 3/4 確認 and 4/4 完了 ---------------------------------------------------------


def test_confirm_shows_everything_but_the_password(reg, contract):
    reg.verify(EMAIL)
    filled = reg.fill_details(contract)
    assert filled.location.endswith("/register/confirm")
    body = page(reg.client.get("/register/confirm"))
    assert "3/4" in body and "確認" in body
    for text in (EMAIL, "水道太郎", contract, "0165432111", "スイドウタロウ", "本人", "アプリ決済に切り替えない"):
        assert f"<dd>{text}</dd>" in body
    assert PASSWORDS["nayoro"] not in body
    assert "訂正</a>" in body and '<button type="submit">登録</button>' in body


def test_normalised_input_matches(reg, contract):
    reg.verify(EMAIL)
    response = reg.fill_details(
        "００１－２３４５－６７８９", phone="０１６５４－３－２１１１", holder_kana="すいどう　たろう"
    )
    assert response.location.endswith("/register/confirm")
    assert '<button type="submit">登録</button>' in page(reg.client.get("/register/confirm"))
    reg.fill_details(contract, holder_kana="ｽｲﾄﾞｳ ﾀﾛｳ")
    assert '<button type="submit">登録</button>' in page(reg.client.get("/register/confirm"))


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({"customer_number": "99999999999"}, ["・お客様番号が存在しません。"]),
        ({"phone": "0165400000"}, ["・電話番号が登録内容と一致しません。"]),
        ({"holder_kana": "スイドウハナコ"}, ["・お客様氏名カナが登録内容と一致しません。"]),
        (
            {"phone": "0165400000", "holder_kana": "ミズタロウ"},
            ["・電話番号が登録内容と一致しません。", "・お客様氏名カナが登録内容と一致しません。"],
        ),
    ],
)
def test_mismatch_is_explained_and_register_is_disabled(app, reg, nayoro, contract, overrides, reasons):
    reg.verify(EMAIL)
    data = details_data(nayoro, contract, **overrides)
    assert reg.client.submit("/register/details", data).location.endswith("/register/confirm")
    body = page(reg.client.get("/register/confirm"))
    assert "該当する契約が見つかりませんでした。入力内容をご確認ください。" in body
    for reason in reasons:
        assert f'<p class="error">{reason}</p>' in body
    assert body.count('<p class="error">') == len(reasons)
    assert '<button type="button" disabled aria-disabled="true">登録</button>' in body
    assert '<button type="submit">登録</button>' not in body
    # Posting 登録 anyway registers nobody.
    refused = reg.confirm()
    assert refused.status_code == 409
    assert count_rows(app, nayoro, Member) == 0


def test_correction_keeps_everything_and_the_password(app, reg, nayoro, contract):
    reg.verify(EMAIL)
    reg.fill_details("99999999999", phone="0165-43-2111", holder_kana="すいどうたろう", relationship="家族")
    body = page(reg.client.get("/register/details"))
    for kept in ('value="水道太郎"', 'value="99999999999"', 'value="0165-43-2111"', 'value="すいどうたろう"'):
        assert kept in body
    assert re.search(r'<input checked[^>]*value="家族"', body)
    assert re.search(r'<input checked id="agree_terms"', body)
    assert "入力済みのパスワードをそのまま使う場合は、空欄のままにしてください。" in body
    assert PASSWORDS["nayoro"] not in body
    fixed = reg.fill_details(contract, password="", password_confirm="", relationship="家族")
    assert fixed.location.endswith("/register/confirm")
    assert reg.confirm().location.endswith("/register/done")
    with app.app_context(), tenant_context(nayoro):
        member = db.session.scalars(select(Member)).one()
        assert verify_password(member.password_hash, PASSWORDS["nayoro"])
        assert member.relationship_to_holder == "家族"


def test_matching_is_throttled_per_customer_number(reg, contract, clock):
    reg.verify(EMAIL)
    for _ in range(5):
        assert reg.fill_details(contract, phone="0165400000").location.endswith("/register/confirm")
    refused = reg.fill_details(contract)
    assert refused.status_code == 200
    assert (
        "お客様番号の照合が短時間に繰り返されたため、一時的に受け付けを停止しています。15分後に再度お試しください。"
    ) in page(refused)
    assert 'value="水道太郎"' in page(refused)
    clock.shift(minutes=15, seconds=1)
    assert reg.fill_details(contract).location.endswith("/register/confirm")


def test_end_to_end_with_real_mail(app, client, nayoro, contract, smtp_server, clock):
    from tests.smtp import find_code

    reg = Registration(app, client, nayoro)
    reg.send_code(EMAIL)
    code = find_code(smtp_server.wait_for(1)[0])
    assert reg.enter_code(code).location.endswith("/register/details")
    assert reg.fill_details(contract).location.endswith("/register/confirm")
    done = reg.confirm()
    assert done.location.endswith("/register/done")
    body = page(client.get("/register/done"))
    assert "4/4" in body and "会員登録完了" in body and "登録処理が完了しました。" in body
    # 2026-11-18 is a Wednesday: one business day later.
    assert "使用量や料金の照会ができるのは1営業日後になります。もうしばらくお待ちください。" in body  # the manual
    assert "照会できるようになる日: <strong>2026年11月19日(木)</strong>" in body
    assert '<a class="button" href="/login">ポータルを利用する</a>' in body

    welcome = smtp_server.wait_for(2)[1]
    assert welcome["Subject"] == "会員登録完了のお知らせ"
    assert "2026年11月19日(木)から" in welcome.get_content()

    with app.app_context(), tenant_context(nayoro):
        member = db.session.scalars(select(Member)).one()
        assert member.email == EMAIL and member.nickname == "水道太郎" and member.login_id is None
        assert member.password_hash.startswith("$argon2id$")
        assert verify_password(member.password_hash, PASSWORDS["nayoro"])
        assert (member.relationship_to_holder, member.payment_method) == ("本人", "アプリ決済に切り替えない")
        assert member.data_visible_from.isoformat() == "2026-11-19"
        link = db.session.scalars(select(MemberContract)).one()
        assert link.member_id == member.id
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.register")).one()
        assert entry.actor == f"member:{member.id}"
        assert db.session.scalars(select(RegistrationDraft)).all() == []


def test_registered_member_can_log_in(app, reg, contract):
    reg.complete(EMAIL, contract)
    response = reg.client.submit("/login", {"identifier": EMAIL, "password": PASSWORDS["nayoro"]})
    assert response.status_code == 302 and "/mypage" in response.location


def test_the_same_address_cannot_register_twice(app, client_for, nayoro, contract, clock):
    Registration(app, client_for("nayoro"), nayoro).complete(EMAIL, contract)
    clock.shift(minutes=2)
    again = Registration(app, client_for("nayoro"), nayoro)
    again.send_code(EMAIL)
    assert [m["kind"] for m in mails(app, nayoro, to=EMAIL)][-1] == "already_registered"
    assert count_rows(app, nayoro, Member) == 1


def test_codes_come_from_the_operating_systems_csprng(monkeypatch):
    """Codes are ``secrets.randbelow`` (the OS CSPRNG), never the ``random`` module: seeding
    ``random`` the same way twice must not repeat them, and the code is what secrets gives."""
    import random

    from waterportal.accounts import verification

    def codes():
        random.seed(2026)
        return [verification.new_code() for _ in range(8)]

    assert codes() != codes()
    monkeypatch.setattr(verification.secrets, "randbelow", lambda n: 42 if n == 1_000_000 else -1)
    assert verification.new_code() == "000042"


def test_a_code_dies_at_the_instant_it_expires(app, nayoro, clock):
    """Expiry is ``now >= expires_at`` on the frozen clock: a microsecond before 30 minutes it
    works, at exactly 30 minutes it is expired."""
    from waterportal.accounts.verification import CodeStatus, check_code, issue_code

    with app.test_request_context(), tenant_context(nayoro):
        early = issue_code(nayoro, "register", EMAIL, "draft:1", 30)
        clock.shift(minutes=30, microseconds=-1)
        assert check_code(nayoro, "register", EMAIL, "draft:1", early).ok
        clock.shift(minutes=1)
        late = issue_code(nayoro, "register", EMAIL, "draft:2", 30)
        clock.shift(minutes=30)
        assert check_code(nayoro, "register", EMAIL, "draft:2", late).status is CodeStatus.EXPIRED
