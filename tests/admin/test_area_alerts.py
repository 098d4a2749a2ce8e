"""Issue 14 §4: area alerts (断水・濁水・工事). Staff publish to 町名/丁目 chosen from the city's
contract addresses or pasted; the members on those streets see a banner during the period
and get one mail through the outbox worker (opt-out per kind); the console counts the reach."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.admin.test_mail_fanout import PASSWORD_HASH, counting
from tests.clock import JST
from tests.smtp import body_of
from waterportal.accounts.models import Member
from waterportal.alerts import services
from waterportal.alerts.models import AreaAlert, AreaAlertArea
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import send_due
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"
START, END = "2026-11-20T09:00", "2026-11-21T17:00"


@pytest.fixture
def streets(app, nayoro, kanazawa, make_contract, make_member):
    """Nayoro members on 西4条南1丁目 (two; one with two contracts there), on the neighbouring
    西4条南11丁目 and on 東1条北2丁目; a Kanazawa member whose address text is the same street."""
    people = {}

    def member(tenant, key, *addresses, language="ja"):
        email = f"{key}@example.jp"
        login_id = f"{key}01" if tenant.login_mode == "login_id" else None
        member_id = make_member(tenant, email=email, login_id=login_id, data_visible_from=dt.date(2020, 1, 1),
                                language=language)
        with app.app_context(), tenant_context(tenant):
            for address in addresses:
                db.session.add(MemberContract(member_id=member_id, contract_id=make_contract(tenant, address=address)))
            db.session.commit()
        people[key] = (tenant, email, login_id or email, member_id)

    member(nayoro, "ichi", "名寄市西4条南1丁目3番地")
    member(nayoro, "futa", "名寄市西4条南1丁目8番地", "名寄市西4条南1丁目9番地 コーポ西4条南101号室", language="en")
    member(nayoro, "juichi", "名寄市西4条南11丁目5番地")
    member(nayoro, "higashi", "名寄市東1条北2丁目4番地")
    make_contract(nayoro, address="名寄市西4条南1丁目20番地")  # a contract nobody registered
    member(kanazawa, "kana", "西4条南1丁目3番地", "金沢市広坂1丁目2番5号")
    return people


def alert_form(**fields):
    data = {"kind": "outage", "title": "配水管工事に伴う断水", "body": "11月20日9時から断水します。\nhttps://example.jp/info",
            "starts_at": START, "ends_at": END, "areas": ["西4条南1丁目"], "pasted": "", "action": "check"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def publish(client, **fields):
    return client.submit("/admin/area-alerts/new", alert_form(action="publish", **fields))


def alerts(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return db.session.scalars(select(AreaAlert).order_by(AreaAlert.id)).all()


def outbox(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return sorted(db.session.execute(select(OutboxMessage.to_address, OutboxMessage.subject)
                                         .where(OutboxMessage.kind == "area_alert")).all())


def test_the_console_lists_the_citys_streets_and_counts_before_publishing(app, staff_client, streets):
    client = staff_client("nayoro")
    page = client.get("/admin/area-alerts/new")
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("no-store")
    text = page.get_data(as_text=True)
    for area in ("西4条南1丁目", "西4条南11丁目", "東1条北2丁目"):
        assert f'value="{area}"' in text
    assert 'value="広坂1丁目"' not in text  # Kanazawa's street
    assert "西4条南1丁目 <span class=\"muted\">(4件・2人)</span>" in text

    checked = client.submit("/admin/area-alerts/new", alert_form())
    assert checked.status_code == 200
    text = checked.get_data(as_text=True)
    assert "対象: 契約 4件・会員 2人" in text and 'value="publish"' in text
    assert alerts(app, streets["ichi"][0]) == []  # checking publishes nothing


def test_publish_reaches_exactly_the_members_on_the_chosen_street_once(app, staff_client, streets, nayoro, kanazawa,
                                                                       smtp_server, audit_entries, runner):
    client = staff_client("nayoro")
    response = publish(client)
    assert response.status_code == 302
    (alert,) = alerts(app, nayoro)
    assert (alert.matched_contracts, alert.matched_members) == (4, 2)
    assert alert.starts_at == dt.datetime(2026, 11, 20, 0, 0) and alert.ends_at == dt.datetime(2026, 11, 21, 8, 0)
    (entry,) = audit_entries(nayoro, "area_alert.publish")
    assert entry[0].startswith("staff:") and entry[3]["areas"] == ["西4条南1丁目"] and entry[3]["members"] == 2
    assert outbox(app, nayoro) == []  # the worker writes the mails

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "契約 4件・会員 2人" in page and "宛先を準備中です。" in page

    # The operator's view of the fan-out, as for notice mail: the job waits for the worker.
    status = runner.invoke(args=["outbox", "status"]).output.splitlines()
    assert any(row.split()[1:4] == ["nayoro", "area_alert", "pending"] for row in status if row.strip()[:1].isdigit())
    with app.app_context():
        assert expand_due() == 2
        assert expand_due() == 0  # never twice
    status = runner.invoke(args=["outbox", "status"]).output.splitlines()
    assert any(row.split()[1:5] == ["nayoro", "area_alert", "delivering", "2"] for row in status
               if row.strip()[:1].isdigit())
    rows = outbox(app, nayoro)
    assert [to for to, _subject in rows] == ["futa@example.jp", "ichi@example.jp"]  # not 11丁目, one mail each
    assert outbox(app, kanazawa) == []
    with app.app_context():
        assert send_due().sent == 2
    mails = smtp_server.wait_for(2)
    by_address = {mail["To"]: mail for mail in mails}
    japanese = by_address["ichi@example.jp"]
    assert "断水のお知らせ: 配水管工事に伴う断水" in japanese["Subject"]
    assert "2026年11月20日(金) 09:00〜2026年11月21日(土) 17:00" in body_of(japanese)
    english = by_address["futa@example.jp"]  # in the member's language
    assert "Notice (water outage): 配水管工事に伴う断水" in english["Subject"]
    assert "Fri, Nov 20, 2026 09:00" in body_of(english)
    assert "2通のうち 送信済み 2通・送信待ち 0通" in client.get("/admin/area-alerts").get_data(as_text=True)
    assert [e[3] for e in audit_entries(nayoro, "area_alert.mail")] == [{"recipients": 2}]


def test_a_pasted_list_is_read_like_the_addresses(app, staff_client, streets, nayoro):
    client = staff_client("nayoro")
    pasted = "名寄市西4条南１１丁目\r\n\r\n  東一条北二丁目  \n"
    checked = client.submit("/admin/area-alerts/new", alert_form(areas=None, pasted=pasted)).get_data(as_text=True)
    assert "対象: 契約 2件・会員 2人" in checked and "東1条北2丁目、西4条南11丁目" in checked
    assert publish(client, areas=None, pasted=pasted).status_code == 302
    # A town without 丁目 stands for each of its 丁目; list and paste add up.
    assert publish(client, areas=["東1条北2丁目"], pasted="西4条南").status_code == 302
    with app.app_context(), tenant_context(nayoro):
        rows = db.session.execute(select(AreaAlertArea.alert_id, AreaAlertArea.area).order_by(AreaAlertArea.id)).all()
    first, second = alerts(app, nayoro)
    assert sorted(area for alert_id, area in rows if alert_id == first.id) == ["東1条北2丁目", "西4条南11丁目"]
    assert sorted(area for alert_id, area in rows if alert_id == second.id) == [
        "東1条北2丁目", "西4条南11丁目", "西4条南1丁目"]
    assert second.matched_members == 4


def test_an_area_without_a_contract_is_refused_at_its_field(app, staff_client, streets, nayoro):
    client = staff_client("nayoro")
    for action in ("check", "publish"):
        response = client.submit("/admin/area-alerts/new", alert_form(
            action=action, areas=None, pasted="西4条南1丁目\n西99条南1丁目\n広坂1丁目", title="入力を残す"))
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert '<p class="error" id="pasted-error">2行目「西99条南1丁目」に該当する契約の住所がありません。' in text
        assert "3行目「広坂1丁目」" in text  # another city's street is no street of this city
        assert 'value="入力を残す"' in text
    response = client.submit("/admin/area-alerts/new", alert_form(action="publish", areas=None))
    assert response.status_code == 422
    assert '<p class="error" id="areas-error">対象の地区を一覧から選ぶか、貼り付けてください。' in response.get_data(as_text=True)
    response = client.submit("/admin/area-alerts/new", alert_form(action="publish", areas=["広坂1丁目"]))
    assert response.status_code == 422 and "一覧にない地区です" in response.get_data(as_text=True)
    assert alerts(app, nayoro) == []
    with pytest.raises(services.AreaAlertError), app.app_context(), tenant_context(nayoro):
        services.publish_alert(nayoro, "staff:1", kind="outage", title="t", body="b", starts_at=dt.datetime(2026, 11, 20),
                               ends_at=dt.datetime(2026, 11, 21), areas=["西99条南1丁目"])


def test_period_and_times_are_checked(app, staff_client, streets):
    client = staff_client("nayoro")
    text = client.submit("/admin/area-alerts/new", alert_form(ends_at="2026-11-20T08:00")).get_data(as_text=True)
    assert "終了日時は開始日時より後にしてください。" in text
    text = client.submit("/admin/area-alerts/new", alert_form(starts_at="2026-11-01T08:00",
                                                              ends_at="2026-11-18T09:59")).get_data(as_text=True)
    assert "終了日時が過ぎています。" in text
    text = client.submit("/admin/area-alerts/new", alert_form(kind="flood")).get_data(as_text=True)
    assert "種類を選択してください。" in text


def member_login(client_for, person):
    tenant, _email, identifier, _member_id = person
    client = client_for(tenant.slug)
    assert client.submit("/login", {"identifier": identifier, "password": PASSWORD}).status_code == 302
    return client


def test_the_banner_shows_during_the_period_only(app, staff_client, client_for, streets, nayoro, clock):
    assert publish(staff_client("nayoro")).status_code == 302
    (alert,) = alerts(app, nayoro)
    ichi, juichi = streets["ichi"][3], streets["juichi"][3]

    def shown(member_id, when):
        with app.app_context(), tenant_context(nayoro):
            return [a.id for a in services.member_alerts(nayoro, member_id, when)]

    for when, expected in ((dt.datetime(2026, 11, 19, 23, 59, 59), []), (dt.datetime(2026, 11, 20, 0, 0), [alert.id]),
                           (dt.datetime(2026, 11, 21, 7, 59, 59), [alert.id]), (dt.datetime(2026, 11, 21, 8, 0), [])):
        assert shown(ichi, when) == expected, when
        assert shown(juichi, when) == []

    def dashboard(person, when):
        clock.move_to(when)
        client = member_login(client_for, person)
        return client, client.get("/mypage").get_data(as_text=True)

    _client, page = dashboard(streets["ichi"], dt.datetime(2026, 11, 20, 8, 59, tzinfo=JST))
    assert "配水管工事に伴う断水" not in page
    client, page = dashboard(streets["ichi"], dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST))
    assert "配水管工事に伴う断水" in page and "断水</span>" in page
    assert "2026年11月20日(金) 09:00〜2026年11月21日(土) 17:00" in page or "令和" in page
    detail = client.get(f"/mypage/alerts/{alert.id}")
    assert detail.status_code == 200 and detail.headers["Cache-Control"].startswith("no-store")
    assert '<a href="https://example.jp/info"' in detail.get_data(as_text=True)
    _client, page = dashboard(streets["juichi"], dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST))
    assert "配水管工事に伴う断水" not in page
    assert _client.get(f"/mypage/alerts/{alert.id}").status_code == 404  # not their street
    client, page = dashboard(streets["ichi"], dt.datetime(2026, 11, 21, 17, 0, tzinfo=JST))
    assert "配水管工事に伴う断水" not in page
    assert client.get(f"/mypage/alerts/{alert.id}").status_code == 404


def test_opt_out_per_kind(app, staff_client, client_for, streets, nayoro, audit_entries):
    client = member_login(client_for, streets["ichi"])
    page = client.get("/mypage/profile/notifications").get_data(as_text=True)
    assert '<input checked id="alert_outage" name="alert_outage" type="checkbox" value="y">' in page
    response = client.submit("/mypage/profile/notifications", {
        "notify_bills": "y", "notify_notices": "y", "alert_turbid": "y", "alert_works": "y", "alert_other": "y"})
    assert response.status_code == 302
    assert '<input id="alert_outage" name="alert_outage" type="checkbox" value="y">' in client.get(
        "/mypage/profile/notifications").get_data(as_text=True)
    assert [e[3] for e in audit_entries(nayoro, "member.alert_mail_changed")] == [{"off": ["outage"]}]

    staff = staff_client("nayoro")
    assert publish(staff, title="断水です").status_code == 302
    assert publish(staff, title="工事です", kind="works").status_code == 302
    with app.app_context():
        assert expand_due() == 3
    assert outbox(app, nayoro) == [
        ("futa@example.jp", "[名寄市上下水道ポータル] Notice (water outage): 断水です"),
        ("futa@example.jp", "[名寄市上下水道ポータル] Notice (water works): 工事です"),
        ("ichi@example.jp", "【名寄市上下水道ポータル】工事のお知らせ: 工事です"),
    ]
    # Opting out of the mail keeps the banner.
    with app.app_context(), tenant_context(nayoro):
        assert len(services.member_alerts(nayoro, streets["ichi"][3], dt.datetime(2026, 11, 20, 1, 0))) == 2


def test_withdraw_ends_the_banner_and_the_mail_not_yet_queued(app, staff_client, streets, nayoro, audit_entries):
    client = staff_client("nayoro")
    publish(client)
    (alert,) = alerts(app, nayoro)
    assert "取り下げますか" in client.get(f"/admin/area-alerts/{alert.id}/withdraw").get_data(as_text=True)
    assert client.submit(f"/admin/area-alerts/{alert.id}/withdraw", {}).status_code == 302
    assert "取り下げ" in client.get(f"/admin/area-alerts/{alert.id}").get_data(as_text=True)
    assert [e[2] for e in audit_entries(nayoro, "area_alert.withdraw")] == [f"area_alert:{alert.id}"]
    with app.app_context():
        assert expand_due() == 0
    with app.app_context(), tenant_context(nayoro):
        assert services.member_alerts(nayoro, streets["ichi"][3], dt.datetime(2026, 11, 20, 1, 0)) == []


def test_operators_read_admins_publish(app, staff_client, streets, nayoro):
    publish(staff_client("nayoro"))
    (alert,) = alerts(app, nayoro)
    operator = staff_client("nayoro", role="operator")
    assert operator.get("/admin/area-alerts").status_code == 200
    assert operator.get(f"/admin/area-alerts/{alert.id}").status_code == 200
    assert operator.get("/admin/area-alerts/new").status_code == 403
    assert operator.get(f"/admin/area-alerts/{alert.id}/withdraw").status_code == 403


def test_another_citys_staff_can_neither_see_nor_publish(app, staff_client, streets, nayoro, kanazawa):
    publish(staff_client("nayoro"))
    (alert,) = alerts(app, nayoro)
    other = staff_client("kanazawa")
    assert "配水管工事に伴う断水" not in other.get("/admin/area-alerts").get_data(as_text=True)
    assert other.get(f"/admin/area-alerts/{alert.id}").status_code == 404
    assert other.get(f"/admin/area-alerts/{alert.id}/withdraw").status_code == 404
    # Kanazawa's list holds its own streets; Nayoro's street text there is a Kanazawa contract.
    assert publish(other, areas=["西4条南1丁目"]).status_code == 302
    (mine,) = alerts(app, kanazawa)
    assert (mine.matched_contracts, mine.matched_members) == (1, 1)
    with app.app_context():
        assert expand_due() == 3
    assert [to for to, _ in outbox(app, kanazawa)] == ["kana@example.jp"]
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(func.count()).select_from(AreaAlert)) == 1


def test_publish_and_the_fan_out_cost_the_same_statements_for_few_or_many_members(app, staff_client, nayoro):
    """Set-wise: the staff POST and the worker's expansion send as many statements for 3 members
    on the street as for 60 (one INSERT ... SELECT per language, never one per member)."""
    def street(count, start):
        with app.app_context(), tenant_context(nayoro):
            for n in range(start, start + count):
                member = Member(email=f"s{n}@example.jp", nickname=f"会員{n}", password_hash=PASSWORD_HASH)
                contract = Contract(customer_number=f"{90000000000 + n}", holder_name="水道 太郎",
                                    holder_name_kana="スイドウタロウ", phone="0165432111", meter_number=f"S{n}",
                                    meter_diameter_mm=13, address=f"名寄市西4条南1丁目{n}番地")
                db.session.add_all([member, contract])
                db.session.flush()
                db.session.add(MemberContract(member_id=member.id, contract_id=contract.id))
            db.session.commit()

    client = staff_client("nayoro")
    costs = []
    for count, start in ((1, 0), (3, 1), (56, 4)):  # the first round warms the caches
        street(count, start)
        with counting(app) as posted:
            assert publish(client, title=f"{count}人").status_code == 302
        with counting(app) as expanded, app.app_context():
            assert expand_due() == start + count
        costs.append((len(posted), len(expanded)))
    assert costs[1] == costs[2], costs
