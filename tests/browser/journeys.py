"""How the axe walk (tests/browser/test_axe.py) reaches the pages that only exist after earlier
steps: 会員登録 2/4 to 4/4, the recovery steps, the pages shown after a form is sent (お問い合わせ,
各種お手続き's 受付番号, 見守り's code, メールアドレスの変更 2/2, 退会完了). Each journey walks the real previous
steps in the browser, in the walk's language, and ends on the page in its real state; the walk
then scans it. They run in the order listed, each after the ones before it in the same browser
(2/4 follows 1/4's code; the recovery asks the secret question of the member 4/4 registered;
the last two use that member, so the walk's own member keeps its address and stays)."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.imports.helpers import contract_row, csv_text
from tests.registration_support import PASSWORDS, PHONES, details_data, mails
from waterportal.extensions import db
from waterportal.imports.services import import_contracts
from waterportal.imports.validation import CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

LOGGED_OUT, LOGGED_IN = "logged-out", "logged-in"
CODE = re.compile(r":\s*(\d{6})\b")  # 「認証コード: 123456」 in every language of the mail


@dataclass
class Walk:
    """One browser context of the walk: a city, a language, a width, and what its journeys made."""

    page: object
    live_server: object
    app: object
    slug: str
    language: str
    width: int
    made: dict = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.live_server.url(self.slug, path)

    def city(self):
        with self.app.app_context():
            return get_registry().by_slug(self.slug)

    def send(self, action: str, wait_for: str | None = None) -> None:
        """Press the form's own submit button (not one that belongs to another form); wait for
        the page it leads to (``wait_for``, a path) or, when it answers in place, the new page."""
        button = self.page.locator(f'form[action="{action}"] button[type=submit]:not([form])').first
        if wait_for:
            button.click()
            self.page.wait_for_url(f"**{wait_for}")
        else:
            with self.page.expect_navigation():
                button.click()


@dataclass(frozen=True)
class Journey:
    path: str
    state: str
    go: Callable[[Walk], None]
    name: str = ""  # a second page of the same address (the form's answer in place)
    when: Callable[[Walk], bool] = lambda walk: True


def email_city(walk: Walk) -> bool:
    return walk.city().login_mode == "email"


def login_id_city(walk: Walk) -> bool:
    return walk.city().login_mode == "login_id"


def latest_code(walk: Walk, email: str) -> str:
    found = mails(walk.app, walk.city(), to=email)
    assert found, f"no mail to {email}"
    return CODE.search(found[-1]["body"]).group(1)


def register_email(walk: Walk) -> None:
    """1/4: a new address and a new contract of the city for this walk; the code is sent."""
    city = walk.city()
    tag = uuid.uuid4().hex[:8]
    digits = city.settings["registration"]["customer_number_digits"]
    number = str(int(tag, 16) % 10 ** digits).zfill(digits)
    with walk.app.app_context(), tenant_context(city):
        row = contract_row(number, phone=PHONES[walk.slug])
        assert import_contracts(city, csv_text(CONTRACT_COLUMNS, [row]).encode()).ok
        db.session.commit()
    walk.made.update(email=f"walk-{tag}@example.jp", number=number, login_id=f"walk{tag}",
                     password=PASSWORDS[walk.slug])
    walk.page.goto(walk.url("/register/"))
    walk.page.locator("#email").fill(walk.made["email"])
    walk.send("/register/", "/register/verify")


def register_code(walk: Walk) -> None:
    """1/4 → 2/4: the code from the mail."""
    walk.page.locator("#code").fill(latest_code(walk, walk.made["email"]))
    walk.send("/register/verify", "/register/details")


def register_details(walk: Walk) -> None:
    """2/4 → 3/4: the tests' valid details for the walk's contract (the choices keep their defaults)."""
    city = walk.city()
    data = details_data(city, walk.made["number"], relationship=None, payment_method=None,
                        **({"login_id": walk.made["login_id"]} if city.login_mode == "login_id" else {}))
    for key, value in data.items():
        target = walk.page.locator(f"#{key}")
        if key.startswith("agree_"):
            target.check()
        elif key == "secret_question":
            target.select_option(value)
        else:
            target.fill(value)
    walk.send("/register/details", "/register/confirm")


def register_confirm(walk: Walk) -> None:
    """3/4 → 4/4: 登録."""
    walk.send("/register/confirm", "/register/done")


def recover_email(walk: Walk) -> None:
    """ログインID・パスワードをお忘れの方 1: the registered member's address."""
    walk.page.goto(walk.url("/recover"))
    walk.page.locator("#email").fill(walk.made["email"])
    walk.send("/recover", "/recover/question")


def recover_answer(walk: Walk) -> None:
    """2: the secret question's answer; the page says the mail is on its way."""
    walk.page.locator("#answer").fill(details_data(walk.city(), "")["secret_answer"])
    walk.send("/recover/question")


def forgot_password(walk: Walk) -> None:
    """パスワードを忘れた場合: an address (the answer is the same for any); the page says a mail is sent."""
    walk.page.goto(walk.url("/password/forgot"))
    walk.page.locator("#email").fill(f"walk-{uuid.uuid4().hex[:8]}@example.jp")
    walk.send("/password/forgot")


def inquiry(walk: Walk) -> None:
    """メールでのお問い合わせ: a filled form (a member's name and address come filled in)."""
    walk.page.goto(walk.url("/inquiry"))
    for key, value in (("name", "水道太郎"), ("email", f"walk-{uuid.uuid4().hex[:8]}@example.jp")):
        if not walk.page.locator(f"#{key}").input_value():
            walk.page.locator(f"#{key}").fill(value)
    walk.page.locator("input[name=category]").first.check()
    walk.page.locator("#subject").fill("検針日について")
    walk.page.locator("#body").fill("次の検針日を教えてください。")
    walk.send("/inquiry", "/inquiry/sent")


def procedure(walk: Walk) -> None:
    """送付先変更 for the member's contract (a different 宛名 each walk, so none is a duplicate)."""
    walk.page.goto(walk.url("/procedures/new/billing_address"))
    walk.page.locator("#f-contract_id").select_option(index=1)
    walk.page.locator("#f-postal_code").fill("0968686")
    walk.page.locator("#f-prefecture").select_option("北海道")
    walk.page.locator("#f-city").fill("名寄市")
    walk.page.locator("#f-street").fill("大通南1丁目1番地")
    walk.page.locator("#f-recipient").fill(f"水道太郎 {walk.language} {walk.width}")
    walk.send("/procedures/new/billing_address", "/procedures/receipt")


def watch(walk: Walk) -> None:
    """見守り: the member's contract with daily readings and a family address (a new one each
    walk: the code waits a minute before another goes to the same address) → the code page."""
    walk.page.goto(walk.url("/mypage/profile/watch"))
    walk.page.locator("input[name=contract_id]").first.check()
    walk.page.locator("#email").fill(f"walk-family-{uuid.uuid4().hex[:8]}@example.jp")
    walk.send("/mypage/profile/watch", "/mypage/profile/watch/verify")


def change_email(walk: Walk) -> None:
    """メールアドレスの変更 1/2 → 2/2, as the member the walk registered (logged in for it)."""
    walk.page.context.clear_cookies()
    walk.page.context.add_cookies([{"name": "lang", "value": walk.language, "url": walk.url("/")}])
    walk.page.goto(walk.url("/login"))
    walk.page.locator("#identifier").fill(walk.made["email" if email_city(walk) else "login_id"])
    walk.page.locator("#password").fill(walk.made["password"])
    walk.send("/login", "/mypage")
    walk.page.goto(walk.url("/mypage/profile/email"))
    walk.page.locator("#email").fill(f"walk-new-{uuid.uuid4().hex[:8]}@example.jp")
    walk.page.locator("#password").fill(walk.made["password"])
    walk.send("/mypage/profile/email", "/mypage/profile/email/verify")


def withdraw(walk: Walk) -> None:
    """退会: the registered member leaves; 退会完了 is shown once."""
    walk.page.goto(walk.url("/mypage/withdraw"))
    walk.page.locator("#confirm").check()
    walk.page.locator("#password").fill(walk.made["password"])
    walk.send("/mypage/withdraw", "/mypage/withdrawn")


JOURNEYS = (
    Journey("/register/verify", LOGGED_OUT, register_email),
    Journey("/register/details", LOGGED_OUT, register_code),
    Journey("/register/confirm", LOGGED_OUT, register_details),
    Journey("/register/done", LOGGED_OUT, register_confirm),
    Journey("/recover/question", LOGGED_OUT, recover_email, when=login_id_city),
    Journey("/recover/question", LOGGED_OUT, recover_answer, name="sent", when=login_id_city),
    Journey("/password/forgot", LOGGED_OUT, forgot_password, name="sent", when=email_city),
    Journey("/inquiry/sent", LOGGED_OUT, inquiry),
    Journey("/inquiry/sent", LOGGED_IN, inquiry),
    Journey("/procedures/receipt", LOGGED_IN, procedure),
    Journey("/mypage/profile/watch/verify", LOGGED_IN, watch),
    Journey("/mypage/profile/email/verify", LOGGED_IN, change_email),
    Journey("/mypage/withdrawn", LOGGED_IN, withdraw),
)
