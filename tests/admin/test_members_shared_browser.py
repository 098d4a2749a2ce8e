"""A citizen's login and logout in a browser that also holds a staff session of the same
city: the citizen side of the cookie is rotated, the staff session survives."""
from __future__ import annotations


def session_of(client) -> dict:
    with client.session_transaction(base_url=f"http://{client.host}") as session:
        return dict(session)


def test_citizen_login_and_logout_leave_the_staff_session_alone(staff_client, nayoro, make_member):
    make_member(nayoro, email="taro@example.jp")
    browser = staff_client("nayoro", role="operator")
    assert browser.get("/admin/members").status_code == 200
    staff_token = session_of(browser)["staff"]
    with browser.session_transaction(base_url="http://nayoro.localhost") as session:
        session["recover_email"] = "left-over@example.jp"  # a citizen flow's key from before the login
    csrf_before = session_of(browser).get("csrf_token")

    response = browser.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
    assert response.status_code == 302 and browser.get("/mypage").status_code == 200
    after_login = session_of(browser)
    assert after_login["staff"] == staff_token
    assert "recover_email" not in after_login and after_login.get("csrf_token") != csrf_before
    assert browser.get("/admin/members").status_code == 200

    browser.submit("/logout", {}, form_page="/mypage")
    after_logout = session_of(browser)
    assert after_logout["staff"] == staff_token and "_user_id" not in after_logout
    assert browser.get("/mypage").headers["Location"].startswith("/login")
    assert browser.get("/admin/members").status_code == 200


def test_staff_logout_leaves_the_citizen_logged_in(staff_client, nayoro, make_member):
    make_member(nayoro, email="taro@example.jp")
    browser = staff_client("nayoro")
    browser.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
    browser.submit("/admin/logout", {}, form_page="/admin/")
    assert browser.get("/admin/").headers["Location"].startswith("/admin/login")
    assert browser.get("/mypage").status_code == 200


def test_citizen_withdrawal_leaves_the_staff_session_alone(staff_client, nayoro, make_member):
    make_member(nayoro, email="taro@example.jp")
    browser = staff_client("nayoro", role="operator")
    staff_token = session_of(browser)["staff"]
    browser.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
    response = browser.submit("/mypage/withdraw", {"password": "Passw0rd!x", "confirm": "y"})
    assert response.headers["Location"].endswith("/mypage/withdrawn")
    assert session_of(browser)["staff"] == staff_token
    assert browser.get("/admin/members").status_code == 200
