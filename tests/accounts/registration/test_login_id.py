"""Registration in the login-ID style (Kanazawa): login ID, email code, secret question."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.registration_support import (
    PASSWORDS,
    count_rows,
    details_data,
    mails,
    page,
)
from waterportal.accounts.models import Member
from waterportal.accounts.secret import verify_answer
from waterportal.contracts.models import MemberContract
from waterportal.core.auth.passwords import verify_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

EMAIL = "taro@example.jp"
CITY = "kanazawa"  # the registration fixtures (conftest.py) work on Kanazawa
NUMBER = "0012345678"





def kdata(number=NUMBER, **overrides):
    from waterportal.tenancy.registry import get_registry

    return details_data(get_registry().by_slug("kanazawa"), number, **overrides)


def test_login_page_button_leads_to_registration(kclient, clock):
    body = page(kclient.get("/login"))
    assert re.search(r'<a class="button" href="/register/">会員登録する</a>', body)
    start = page(kclient.get("/register/"))
    assert "1/4" in start and "noreply@kanazawa.localhostからのメールが受信できることをご確認ください。" in start
    assert "金沢市上下水道ポータルサイト" in start


def test_code_mail_uses_kanazawas_names(app, reg, kanazawa):
    reg.send_code(EMAIL)
    [mail] = mails(app, kanazawa)
    assert "「金沢市上下水道ポータルサイト」利用をご希望のお客様へ。" in mail["body"]
    assert "金沢市企業局" in mail["body"]  # the city's signature
    assert "noreply@kanazawa.localhost" in mail["sender"]


def test_details_page_has_login_id_and_secret_question(reg):
    reg.verify(EMAIL)
    body = page(reg.client.get("/register/details"))
    for text in (
        '<label for="login_id" class="required">ログインID</label>',
        "6〜20文字の半角英数字と記号(- _)で入力してください。(大文字と小文字は区別しません)",
        '<label for="secret_question" class="required">秘密の質問</label>',
        '<label for="secret_answer" class="required">秘密の質問の答え</label>',
        '<li data-rule="length">半角英数字10文字以上</li>', '<li data-rule="lower">アルファベット小文字を含む</li>',
        '<li data-rule="digit">数字を含む</li>',
        "金沢市企業局に届け出た電話番号", "上下水道料金のお知らせ(検針票)に記載の10桁のお客さま番号",  # Kanazawa's word
    ):
        assert text in body, text
    for question in ("母親の旧姓は?", "初めて飼ったペットの名前は?", "出身小学校の名前は?", "好きな食べ物は?"):
        assert f">{question}</option>" in body
    assert "アルファベット大文字を含む" not in body
    # Kanazawa offers no クレジットカード決済 (Nayoro does).
    assert "クレジットカード" not in body and "> アプリ決済に切り替えない</label>" in body


@pytest.mark.parametrize(
    ("login_id", "message"),
    [
        ("", "ログインIDを入力してください。"),
        ("taro", "ログインIDは6〜20文字の半角英数字と記号(- _)で入力してください。"),
        ("t" * 21, "ログインIDは6〜20文字の半角英数字と記号(- _)で入力してください。"),
        ("taro yamada", "ログインIDは6〜20文字の半角英数字と記号(- _)で入力してください。"),
        ("taro.yamada", "ログインIDは6〜20文字の半角英数字と記号(- _)で入力してください。"),
        ("すいどうたろう", "ログインIDは6〜20文字の半角英数字と記号(- _)で入力してください。"),
    ],
)
def test_login_id_rules(reg, contract, login_id, message):
    reg.verify(EMAIL)
    response = reg.client.submit("/register/details", kdata(login_id=login_id))
    assert response.status_code == 200
    assert f'<p class="error" id="login_id-error">{message}</p>' in page(response)


def test_login_id_is_unique_ignoring_case(app, reg, contract, kanazawa, make_member):
    make_member(kanazawa, email="other@example.jp", login_id="Taro_Suido")
    reg.verify(EMAIL)
    body = page(reg.client.submit("/register/details", kdata(login_id="taro_SUIDO")))
    assert "このログインIDは既に使われています。別のログインIDを入力してください。" in body
    assert 'value="taro_SUIDO"' in body


def test_login_id_taken_in_another_city_is_free_here(app, reg, contract, nayoro, make_member):
    make_member(nayoro, email="other@example.jp", login_id="taro_suido")
    reg.verify(EMAIL)
    assert reg.client.submit("/register/details", kdata()).location.endswith("/register/confirm")


def test_full_width_login_id_is_normalised(app, reg, contract, kanazawa):
    reg.complete(EMAIL, contract, login_id="ｔａｒｏ＿ｓｕｉｄｏ")
    with app.app_context(), tenant_context(kanazawa):
        assert db.session.scalars(select(Member.login_id)).one() == "taro_suido"


def test_password_follows_kanazawas_policy_and_avoids_the_login_id(reg, contract):
    reg.verify(EMAIL)
    body = page(reg.client.submit("/register/details", kdata(password="Suido#26", password_confirm="Suido#26")))
    assert "パスワードは10文字以上で入力してください。" in body
    body = page(reg.client.submit("/register/details", kdata(password="abcdefghijk", password_confirm="abcdefghijk")))
    assert "数字を含めてください。" in body
    same = "taro_suido2026"
    body = page(reg.client.submit("/register/details", kdata(password=same, password_confirm=same)))
    assert "メールアドレスやログインIDを含むパスワードは使用できません。" in body


def test_secret_question_and_answer_are_required(reg, contract):
    reg.verify(EMAIL)
    body = page(reg.client.submit("/register/details", kdata(secret_question="", secret_answer="")))
    assert '<p class="error" id="secret_question-error">秘密の質問を選択してください。</p>' in body
    assert '<p class="error" id="secret_answer-error">秘密の質問の答えを入力してください。</p>' in body
    body = page(reg.client.submit("/register/details", kdata(secret_question="好きな色は?")))
    assert "秘密の質問を選択してください。" in body


def test_end_to_end_in_kanazawa(app, reg, kanazawa, contract, smtp_server):
    from tests.smtp import find_code

    reg.send_code(EMAIL)
    assert reg.enter_code(find_code(smtp_server.wait_for(1)[0])).location.endswith("/register/details")
    assert reg.client.submit("/register/details", kdata()).location.endswith("/register/confirm")
    confirm = page(reg.client.get("/register/confirm"))
    for shown in ("taro_suido", EMAIL, "好きな食べ物は?", NUMBER, "0762202111", "スイドウタロウ"):
        assert f"<dd>{shown}</dd>" in confirm
    assert "かれーらいす" not in confirm and PASSWORDS["kanazawa"] not in confirm
    assert reg.confirm().location.endswith("/register/done")
    done = page(reg.client.get("/register/done"))
    assert "登録処理が完了しました。" in done
    assert "ログインID: <strong>taro_suido</strong>" in done
    # Wednesday 2026-11-18 + 2 business days.
    assert "使用量や料金の照会ができるのは2営業日後になります。もうしばらくお待ちください。" in done  # its manual
    assert "照会できるようになる日: <strong>2026年11月20日(金)</strong>" in done

    welcome = smtp_server.wait_for(2)[1]
    assert welcome["Subject"] == "会員登録完了のお知らせ"
    assert "ログインID: taro_suido" in welcome.get_content()
    assert PASSWORDS["kanazawa"] not in welcome.get_content()

    with app.app_context(), tenant_context(kanazawa):
        member = db.session.scalars(select(Member)).one()
        assert (member.login_id, member.email) == ("taro_suido", EMAIL)
        assert member.secret_question == "好きな食べ物は?"
        assert member.secret_answer_hash.startswith("$argon2id$")
        assert "かれー" not in member.secret_answer_hash and "カレー" not in member.secret_answer_hash
        assert verify_answer(member.secret_answer_hash, "カレーライス")
        assert not verify_answer(member.secret_answer_hash, "ハンバーグ")
        assert verify_password(member.password_hash, PASSWORDS["kanazawa"])
        assert member.data_visible_from.isoformat() == "2026-11-20"
        assert count_rows(app, kanazawa, MemberContract) == 1


def test_registered_member_logs_in_with_the_login_id(reg, contract):
    reg.complete(EMAIL, contract)
    response = reg.client.submit("/login", {"identifier": "taro_suido", "password": PASSWORDS["kanazawa"]})
    assert response.status_code == 302 and "/mypage" in response.location


def test_correction_keeps_the_answer(app, reg, kanazawa, contract):
    reg.verify(EMAIL)
    reg.client.submit("/register/details", kdata(phone="0760000000"))
    assert "・電話番号が登録内容と一致しません。" in page(reg.client.get("/register/confirm"))
    body = page(reg.client.get("/register/details"))
    assert 'value="taro_suido"' in body and "<option selected value=\"好きな食べ物は?\">" in body
    assert "かれーらいす" not in body
    assert "入力済みの答えをそのまま使う場合は、空欄のままにしてください。" in body
    fixed = reg.client.submit("/register/details", kdata(password="", password_confirm="", secret_answer=""))
    assert fixed.location.endswith("/register/confirm")
    assert reg.confirm().location.endswith("/register/done")
    with app.app_context(), tenant_context(kanazawa):
        assert verify_answer(db.session.scalars(select(Member.secret_answer_hash)).one(), "カレーライス")
