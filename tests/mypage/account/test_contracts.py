"""⑨ 各種お手続き: add a contract (registration's matching and throttles), label it, remove a
link, and nobody reaches another member's or another city's links."""
from __future__ import annotations

from sqlalchemy import select

from tests.mypage.account.conftest import text
from waterportal.audit.models import AuditEntry
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.words import customer_number_wording

PHONE = "0165432111"  # what make_contract gives every contract


def w(tenant, expected: str) -> str:
    """``expected`` in the city's word for the customer number (お客様番号 / お客さま番号)."""
    for other, word in customer_number_wording(tenant.settings):
        expected = expected.replace(other, word)
    return expected


def to_fullwidth(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def links_of(app, who) -> list[tuple[int, str]]:
    with app.app_context(), tenant_context(who.tenant):
        rows = db.session.execute(
            select(MemberContract.contract_id, MemberContract.label)
            .where(MemberContract.member_id == who.member_id)
            .order_by(MemberContract.id)
        ).all()
    return [tuple(row) for row in rows]


def number_of(app, tenant, contract_id) -> str:
    with app.app_context(), tenant_context(tenant):
        return db.session.get(Contract, contract_id).customer_number


def add(client, number, phone=PHONE, kana="スイドウタロウ", label=""):
    return client.submit("/mypage/contracts", {"customer_number": number, "phone": phone, "holder_kana": kana, "label": label})


def link_id(app, who, contract_id) -> int:
    with app.app_context(), tenant_context(who.tenant):
        return db.session.scalar(
            select(MemberContract.id).where(MemberContract.member_id == who.member_id, MemberContract.contract_id == contract_id)
        )


def test_contracts_page_lists_the_links(tenant, person, logged_in):
    taro = person(tenant)
    response = logged_in(taro).get("/mypage/contracts")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "各種お手続き" in page and taro.numbers[0] in page and "風連町西町196番地1" in page
    assert w(tenant, "最後のお客様番号は削除できません。") in page and "/remove" not in page


def test_add_a_contract_with_normalised_input(tenant, person, logged_in, make_contract, app):
    taro = person(tenant)
    second = make_contract(tenant, holder_name_kana="スイドウハナコ", address="大通り1-2-3")
    number = number_of(app, tenant, second)
    typed = to_fullwidth(number[:3]) + "-" + number[3:]
    response = add(logged_in(taro), typed, phone="０１６５－４３－２１１１", kana="すいどう　ﾊﾅｺ", label=" 実家 ")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/contracts"
    assert links_of(app, taro) == [(taro.contract_ids[0], ""), (second, "実家")]
    client = logged_in(taro)
    page = text(client.get("/mypage/contracts"))
    assert number in page and "実家" in page and "/remove" in page
    with app.app_context(), tenant_context(tenant):
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == f"member:{taro.member_id}")).all()
    assert "contract.linked" in actions


def test_mismatches_are_told_and_the_input_kept(tenant, person, logged_in, make_contract, app):
    taro = person(tenant)
    number = number_of(app, tenant, make_contract(tenant))
    client = logged_in(taro)
    page = text(add(client, number, phone="0111111111", kana="ヤマダハナコ", label="別荘"))
    assert "該当する契約が見つかりませんでした。" in page
    assert "・電話番号が登録内容と一致しません。" in page and "・お客様氏名カナが登録内容と一致しません。" in page
    assert f'value="{number}"' in page and 'value="ヤマダハナコ"' in page and 'value="別荘"' in page
    digits = tenant.settings["registration"]["customer_number_digits"]
    unknown = text(add(client, "9" * digits))
    assert w(tenant, "・お客様番号が存在しません。") in unknown
    assert len(links_of(app, taro)) == 1


def test_form_errors(tenant, person, logged_in):
    client = logged_in(person(tenant))
    empty = text(add(client, "", phone="", kana=""))
    for message in (w(tenant, "お客様番号を入力してください。"), "電話番号を入力してください。", "お客様氏名カナを入力してください。"):
        assert message in empty
    digits = tenant.settings["registration"]["customer_number_digits"]
    bad = text(add(client, "123", phone="12345", kana="yamada", label="あ" * 21))
    assert w(tenant, f"お客様番号は{digits}桁の数字で入力してください") in bad
    assert "電話番号は市外局番から" in bad and "カタカナで入力してください" in bad
    assert "呼び名は20文字以内で入力してください。" in bad


def test_the_same_contract_twice_is_refused(tenant, person, logged_in, app):
    taro = person(tenant)
    client = logged_in(taro)
    page = text(add(client, taro.numbers[0]))
    assert w(tenant, 'id="customer_number-error">このお客様番号は既に登録されています。') in page
    assert len(links_of(app, taro)) == 1


def test_a_family_member_may_link_the_same_contract(tenant, person, logged_in, app):
    taro = person(tenant)
    hanako = person(tenant, email="hanako@example.jp")
    assert add(logged_in(hanako), taro.numbers[0]).status_code == 302
    assert links_of(app, hanako)[-1] == (taro.contract_ids[0], "")
    assert links_of(app, taro) == [(taro.contract_ids[0], "")]


def test_matching_is_throttled_as_at_registration(tenant, person, logged_in, make_contract, app, clock):
    taro = person(tenant)
    number = number_of(app, tenant, make_contract(tenant))
    client = logged_in(taro)
    for _ in range(5):  # contracts.services.PER_NUMBER: 5 per 15 minutes
        assert "該当する契約が見つかりませんでした。" in text(add(client, number, phone="0199999999"))
    throttled = add(client, number)
    assert throttled.status_code == 429
    assert w(tenant, "お客様番号の照合が短時間に繰り返されたため") in text(throttled)
    assert len(links_of(app, taro)) == 1
    clock.shift(minutes=15)
    client = logged_in(taro)  # a fresh login: the old one idled out in Kanazawa
    assert add(client, number).status_code == 302


def test_label_a_contract(tenant, person, logged_in, app, audit_actions):
    taro = person(tenant)
    client = logged_in(taro)
    own = link_id(app, taro, taro.contract_ids[0])
    path = f"/mypage/contracts/{own}/label"
    assert taro.numbers[0] in text(client.get(path))
    assert client.submit(path, {"label": "自宅"}).status_code == 302
    assert links_of(app, taro) == [(taro.contract_ids[0], "自宅")]
    assert "呼び名を変更しました。" in text(client.get("/mypage/contracts"))
    too_long = text(client.submit(path, {"label": "あ" * 21}))
    assert 'id="label-error">呼び名は20文字以内で入力してください。' in too_long and "あ" * 21 in too_long
    assert links_of(app, taro)[0][1] == "自宅"
    assert client.submit(path, {"label": ""}).status_code == 302
    assert links_of(app, taro)[0][1] == ""
    assert audit_actions(taro).count("contract.labelled") == 2


def test_remove_a_link(tenant, person, logged_in, app, audit_actions):
    taro = person(tenant, contracts=2)
    client = logged_in(taro)
    second = link_id(app, taro, taro.contract_ids[1])
    path = f"/mypage/contracts/{second}/remove"
    confirm = text(client.get(path))
    assert "削除する" in confirm and taro.numbers[1] in confirm
    assert len(links_of(app, taro)) == 2  # GET changes nothing
    response = client.submit(path, {})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/contracts"
    assert links_of(app, taro) == [(taro.contract_ids[0], "")]
    assert w(tenant, f"お客様番号 {taro.numbers[1]} の登録を削除しました。") in text(client.get("/mypage/contracts"))
    with app.app_context(), tenant_context(tenant):
        assert db.session.get(Contract, taro.contract_ids[1]) is not None  # the city's contract stays
    assert audit_actions(taro)[-1] == "contract.unlinked"


def test_the_last_link_cannot_be_removed(tenant, person, logged_in, app):
    taro = person(tenant)
    client = logged_in(taro)
    only = link_id(app, taro, taro.contract_ids[0])
    response = client.submit(f"/mypage/contracts/{only}/remove", {})
    assert response.status_code == 302
    assert w(tenant, "最後のお客様番号は削除できません。") in text(client.get("/mypage/contracts"))
    assert len(links_of(app, taro)) == 1


def test_a_member_without_links_is_asked_to_add_one(tenant, person, logged_in, app):
    taro = person(tenant)
    with app.app_context(), tenant_context(tenant):  # e.g. the city deleted the contract
        db.session.delete(db.session.get(Contract, taro.contract_ids[0]))
        db.session.commit()
    page = text(logged_in(taro).get("/mypage/contracts"))
    assert w(tenant, "ご登録のお客様番号がありません。") in page and w(tenant, "お客様番号の追加") in page


def test_another_members_link_is_not_found(tenant, person, logged_in, app, load_member):
    taro = person(tenant, contracts=2)
    hanako = person(tenant, email="hanako@example.jp")
    theirs = link_id(app, taro, taro.contract_ids[1])
    client = logged_in(hanako)
    token = client.csrf_token("/mypage/contracts")
    for path in (f"/mypage/contracts/{theirs}/label", f"/mypage/contracts/{theirs}/remove"):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"csrf_token": token, "label": "乗っ取り"}).status_code == 404
    assert links_of(app, taro) == [(taro.contract_ids[0], ""), (taro.contract_ids[1], "")]


def test_another_citys_link_is_not_found(nayoro, kanazawa, person, logged_in, app):
    nayoro_taro = person(nayoro, contracts=2)
    kanazawa_taro = person(kanazawa, contracts=2)
    theirs = link_id(app, nayoro_taro, nayoro_taro.contract_ids[1])
    client = logged_in(kanazawa_taro)
    token = client.csrf_token("/mypage/contracts")
    for path in (f"/mypage/contracts/{theirs}/label", f"/mypage/contracts/{theirs}/remove"):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"csrf_token": token, "label": "x"}).status_code == 404
    assert len(links_of(app, nayoro_taro)) == 2
    # A Nayoro number typed in Kanazawa matches nothing there (the numbers are per city).
    page = text(add(client, nayoro_taro.numbers[1]))
    assert "該当する契約が見つかりませんでした" in page or "桁の数字で入力してください" in page


def test_labels_reach_the_dashboard_switcher(tenant, person, logged_in, app):
    taro = person(tenant, contracts=2)
    client = logged_in(taro)
    client.submit(f"/mypage/contracts/{link_id(app, taro, taro.contract_ids[1])}/label", {"label": "実家"})
    assert f"実家({taro.numbers[1]})" in text(client.get("/mypage"))


def test_a_link_id_beyond_the_database_integer_is_not_found(person, logged_in, tenant):
    """An address with a link id too large for the INTEGER column is a 404, not a database error."""
    client = logged_in(person(tenant))
    for path in ("/mypage/contracts/99999999999999999999/label", "/mypage/contracts/2147483648/remove"):
        assert client.get(path).status_code == 404, path
        assert client.submit(path, {"label": "自宅"}, form_page="/mypage/contracts").status_code == 404, path


def test_linking_is_throttled_per_account(tenant, person, logged_in, make_contract, app, clock):
    """contracts.services.PER_REQUESTER: a member may try 10 customer numbers an hour, each a
    different number (so the per-number limit never trips); the 11th is refused even when
    right, and another member behind the same address is not held back."""
    digits = tenant.settings["registration"]["customer_number_digits"]
    taro, hanako = person(tenant), person(tenant, email="hanako@example.jp")
    number = number_of(app, tenant, make_contract(tenant))
    client = logged_in(taro)
    for n in range(10):
        assert "該当する契約が見つかりませんでした。" in text(add(client, str(9_000_000 + n).zfill(digits)))
    throttled = add(client, number)
    assert throttled.status_code == 429 and w(tenant, "お客様番号の照合が短時間に繰り返されたため") in text(throttled)
    assert len(links_of(app, taro)) == 1
    assert add(logged_in(hanako), number).status_code == 302
    assert len(links_of(app, hanako)) == 2


def test_what_a_citizen_typed_keeps_its_spelling_while_the_portal_says_the_citys_word(tenant, person, logged_in,
                                                                                      app):
    """The city's word is written into the portal's own texts (the catalogues), never into
    what a member typed: a label that says the other spelling is shown as typed."""
    (word,) = {w for _, w in customer_number_wording(tenant.settings)}
    (other,) = {o for o, _ in customer_number_wording(tenant.settings)}
    taro = person(tenant)
    client = logged_in(taro)
    own = link_id(app, taro, taro.contract_ids[0])
    assert client.submit(f"/mypage/contracts/{own}/label", {"label": f"{other}のメモ"}).status_code == 302
    page = text(client.get("/mypage/contracts"))
    assert f"{other}のメモ" in page and word in page
