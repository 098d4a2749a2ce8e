"""The procedures' Japanese words in the citizen's language (issue 13 §10): every kind's name,
description, field label and choice and every status is listed for the catalogues
(procedures/words.py), and the pages show them translated while the stored values stay
Japanese."""
from __future__ import annotations

import html

import pytest

from tests.procedures import files
from tests.procedures.test_reduction_pages import post_form
from tests.procedures.test_reductions import LEAK
from waterportal.procedures.kinds import load_catalog
from waterportal.procedures.models import STATUS_LABELS
from waterportal.procedures.words import WORDS

LISTED = {str(word) for word in WORDS}  # outside a request: the message ids


def kind_words() -> set[str]:
    words = set(STATUS_LABELS.values())
    for kind in load_catalog().values():
        words |= {kind.label, kind.description} - {""}
        for field in kind.schema().fields.values():
            words |= {field.metadata["label"]} if field.metadata.get("label") else set()
            words |= set(field.metadata.get("choices", ()) or ())
    return words


def test_every_word_of_every_kind_is_listed_for_the_catalogues():
    assert sorted(kind_words() - LISTED) == []


@pytest.mark.parametrize(("language", "texts"), [
    ("en", ["Start water service", "Address where water is used", "Household size",
            "Direct debit", "Undecided (ask at the counter)", "Apply"]),
    ("easy", ["水道を はじめる", "水道を つかう ばしょの じゅうしょ", "まだ きめて いない（まどぐちで そうだん）"]),
])
def test_a_kind_form_shows_its_words_in_the_language_and_keeps_the_japanese_values(member_client, language, texts):
    client, _contract_id = member_client("nayoro")
    client.set_cookie("lang", language, domain="nayoro.localhost")
    page = client.get("/procedures/new/move_in").get_data(as_text=True)
    for text in texts:
        assert text in page, text
    assert 'value="口座振替"' in page  # the stored choice stays the manual's word


def test_the_field_messages_are_in_the_language(member_client):
    client, _contract_id = member_client("nayoro")
    client.set_cookie("lang", "en", domain="nayoro.localhost")
    response = client.submit("/procedures/new/move_in", {"persons": "99", "phone": "12"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please enter your Address where water is used." in page
    assert "Household size: a number from 1 to 20." in page
    assert "Phone number: 10 or 11 digits starting with 0." in page


def test_a_kinds_refusals_and_the_verify_title_are_in_the_language(member_client, client_for):
    client, contract_id = member_client("nayoro")
    client.set_cookie("lang", "en", domain="nayoro.localhost")
    payload = {"contract_id": str(contract_id), "method": "口座振替（新規の申込み・口座の変更）", "bank": "北海道",
               "branch": "名寄", "account_type": "", "account_number": "12", "holder_kana": "タロウ@"}
    response = client.submit("/procedures/new/payment_method", payload)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the account type." in page
    assert "Enter the account number as 7 digits (if it is shorter, add 0s at the front)." in page
    assert "預金種目を選択してください。" not in page
    assert "The account holder&#39;s name has characters a bank cannot use: " in page
    anonymous = client_for("nayoro")
    anonymous.set_cookie("lang", "easy", domain="nayoro.localhost")
    title = anonymous.get("/procedures/new/move_in").get_data(as_text=True).split("<title>")[1].split("</title>")[0]
    assert "水道の使用開始" not in title and title.strip()


def test_an_attachment_refusal_and_the_hint_are_in_the_language(member_client):
    client, contract_id = member_client("nayoro")
    client.set_cookie("lang", "en", domain="nayoro.localhost")
    assert "You can attach up to" in client.get("/procedures/new/leak_reduction").get_data(as_text=True)
    typed = {**LEAK, "contract_id": str(contract_id)}
    big = files.jpeg() + b"\x00" * (5 * 1024 * 1024)
    response = post_form(client, "leak_reduction", typed, [("receipt.pdf", files.SVG), ("big.jpg", big)])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert ('"receipt.pdf" is a kind of file that cannot be attached. Choose a JPEG or PNG photo or a PDF.'
            in page)
    assert '"big.jpg" is too large (each file can be up to 5 MB).' in page
    assert "添付できない種類" not in page
