"""減免申請 and 漏水減額申請 in the browser's shoes, in both demo cities: the forms (the city's
reduction kinds and notes), multipart filing, input kept on an error with the file refusal
at its field, and who may download a file (the member who filed it and the city's staff;
never another member, another city's member or another city's staff)."""
from __future__ import annotations

import html
import re

import pytest

from tests.admin.conftest import make_staff, staff_client  # noqa: F401 (the fixtures)
from tests.procedures import files
from tests.procedures.test_reductions import LEAK, REDUCTION
from tests.upload_support import multipart
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"
AGAIN = "お手数ですが、添付ファイルはもう一度選択してください(ほかの入力内容はそのまま残っています)。"
CITY_KINDS = {"nayoro": ("ひとり親世帯", "児童扶養手当証書の写し"), "kanazawa": ("社会福祉施設", "施設の認可書")}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_form(client, kind: str, fields: dict, uploads=()):
    token = client.csrf_token(f"/procedures/new/{kind}")
    body, content_type = multipart({"csrf_token": token, **fields}, [("attachments", n, d) for n, d in uploads])
    return client.post(f"/procedures/new/{kind}", data=body, content_type=content_type)


def filed_number(client) -> str:
    page = text(client.get("/procedures/receipt"))
    return re.search(r"R2026-\d{6}", page).group(0)


def file_links(client, number: str) -> list[str]:
    return re.findall(rf'href="(/procedures/{number}/files/\d+)"', text(client.get(f"/procedures/{number}")))


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_reduction_form_lists_the_citys_kinds_with_their_notes(member_client, slug):
    client, _ = member_client(slug)
    response = client.get("/procedures/new/reduction")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    name, note = CITY_KINDS[slug]
    assert f'value="{name}"' in page and note in page
    other = CITY_KINDS["kanazawa" if slug == "nayoro" else "nayoro"][0]
    assert other not in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'accept="image/jpeg,image/png,application/pdf' in page
    assert "1 ファイル 5 MB まで" in page
    assert 'type="month"' in page


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_a_leak_reduction_is_filed_and_only_its_member_gets_the_files(member_client, slug):
    client, contract_id = member_client(slug)
    receipt, photo = files.pdf("領収書"), files.jpeg()
    response = post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id)},
                         [("領収書.pdf", receipt), ("配管.jpg", photo)])
    assert response.status_code == 302, text(response)[:2000]
    number = filed_number(client)
    page = text(client.get(f"/procedures/{number}"))
    assert "修理した事業者(指定給水装置工事事業者)" in page and "名寄管工株式会社" in page
    assert "2026年9月分" in page
    links = file_links(client, number)
    assert len(links) == 2
    download = client.get(links[0])
    assert download.status_code == 200 and download.data == receipt
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E9%A0%98%E5%8F%8E%E6%9B%B8.pdf" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(links[1]).data == photo
    # Another member of the same city: the number and the file are not theirs.
    neighbour, _ = member_client(slug, "hanako@example.jp")
    assert neighbour.get(links[0]).status_code == 404
    assert neighbour.get(f"/procedures/{number}").status_code == 404


def test_another_city_and_its_staff_never_get_the_file(member_client, staff_client, client_for):  # noqa: F811
    client, contract_id = member_client("nayoro")
    secret = files.pdf("名寄の領収書")
    assert post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id)},
                     [("r.pdf", secret)]).status_code == 302
    number = filed_number(client)
    link = file_links(client, number)[0]
    # A Kanazawa member whose own request has the same number and file id asks for it.
    other, other_contract = member_client("kanazawa")
    assert post_form(other, "leak_reduction", {**LEAK, "contract_id": str(other_contract)},
                     [("k.pdf", files.pdf("金沢"))]).status_code == 302
    assert re.search(rf"/procedures/{number}/files/\d+", " ".join(file_links(other, number)))  # same number there
    assert other.get(link).status_code == 404
    # A logged-out visitor of either city.
    assert client_for("nayoro").get(link).status_code == 404
    assert client_for("kanazawa").get(link).status_code == 404
    request_id, attachment_id = staff_ids(client, link)
    admin_path = f"/admin/procedures/{request_id}/files/{attachment_id}"
    nayoro_staff = staff_client("nayoro", role="operator")
    got = nayoro_staff.get(admin_path)
    assert got.status_code == 200 and got.data == secret
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Cache-Control"] == "no-store" and got.headers["X-Content-Type-Options"] == "nosniff"
    kanazawa_staff = staff_client("kanazawa")
    assert kanazawa_staff.get(admin_path).status_code == 404


def staff_ids(client, link: str) -> tuple[int, int]:
    """The request id and the file id behind a member's file link (the console's URLs use ids)."""
    from sqlalchemy import select

    from waterportal.procedures.models import ProcedureAttachment

    attachment_id = int(link.rsplit("/", 1)[1])
    app = client.application
    with app.app_context():
        from tests.conftest import city

        with tenant_context(city(app, "nayoro")):
            row = db.session.scalar(select(ProcedureAttachment).where(ProcedureAttachment.id == attachment_id))
            return row.request_id, row.id


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_a_refused_file_keeps_every_typed_value_and_says_to_choose_files_again(member_client, slug):
    client, contract_id = member_client(slug)
    typed = {**LEAK, "contract_id": str(contract_id), "repairer_name": "<b>水道屋</b>", "note": "床下から音がする"}
    response = post_form(client, "leak_reduction", typed, [("receipt.pdf", files.SVG), ("ok.jpg", files.jpeg())])
    page = text(response)
    assert response.status_code == 422
    assert "「receipt.pdf」は添付できない種類のファイルです。JPEG・PNG の写真か PDF を選択してください。" in page
    assert AGAIN in page
    assert 'value="<b>水道屋</b>"' not in response.get_data(as_text=True)  # escaped, yet kept:
    assert 'value="<b>水道屋</b>"' in page
    assert "床下から音がする" in page and 'value="2026-10-20"' in page and 'value="2026-09"' in page
    assert re.search(r'value="建物の床下・壁の中の給水管"\s+checked', page)


def test_a_leak_reduction_without_files_and_a_field_error_names_both_in_turn(member_client):
    client, contract_id = member_client("nayoro")
    response = post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id), "repaired_on": "2026-12-01"})
    assert response.status_code == 422
    assert "修理が完了してから申請してください" in text(response)
    response = post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id)})
    assert response.status_code == 422
    assert "ファイルを添付してください(修理の領収書、修理箇所の写真など)。" in text(response)


def test_a_reduction_is_filed_and_its_certificate_number_shown_masked(member_client):
    client, contract_id = member_client("kanazawa")
    response = post_form(client, "reduction", {**REDUCTION, "contract_id": str(contract_id)},
                         [("手帳.png", files.png())])
    assert response.status_code == 302, text(response)[:2000]
    number = filed_number(client)
    page = text(client.get(f"/procedures/{number}"))
    assert "生活保護世帯" in page and "2026年12月分から" in page
    assert "A-1234567" not in page and "567" in page
    assert len(file_links(client, number)) == 1


def test_an_unknown_reduction_kind_is_refused_at_its_field(member_client):
    client, contract_id = member_client("nayoro")
    response = post_form(client, "reduction", {**REDUCTION, "reduction_kind": "社会福祉施設",
                                               "contract_id": str(contract_id)})
    page = text(response)
    assert response.status_code == 422
    assert 'id="f-reduction_kind-error">減免の種類を選択肢から選んでください。' in page
    assert 'value="水道 太郎"' in page  # the rest is kept


# Werkzeug leaves the container of a file part cut off mid-way to the garbage collector (its
# parser stops without closing it): a ResourceWarning, no leak past the request.
CUT_OFF = pytest.param(
    b"--x\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.pdf\"\r\n\r\n%PDF-",
    marks=pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"), id="cut-off-file",
)


@pytest.mark.parametrize("garbage", [
    CUT_OFF,
    b"\x00\xff" * 500,
    b"--x--\r\n",
])
def test_multipart_garbage_is_never_a_500(member_client, garbage):
    client, _ = member_client("nayoro")
    client.csrf_token("/procedures/new/leak_reduction")
    response = client.post("/procedures/new/leak_reduction", data=garbage,
                           content_type='multipart/form-data; boundary="x"')
    assert response.status_code < 500


def test_hostile_file_names_and_parts_are_refused_or_cleaned(member_client):
    client, contract_id = member_client("nayoro")
    response = post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id)},
                         [("../../\x00<script>.pdf", files.pdf()), ("", b""), ("x" * 5000 + ".jpg", files.jpeg())])
    assert response.status_code == 302, text(response)[:1000]
    links = file_links(client, filed_number(client))
    names = [client.get(link).headers["Content-Disposition"] for link in links]
    assert len(names) == 2
    assert all("<" not in n and "/" not in n.split("filename*")[0] and "\x00" not in n for n in names)


def test_a_member_with_a_filed_request_can_withdraw_and_the_city_keeps_the_request(app, member_client, nayoro):
    from sqlalchemy import select

    from waterportal.procedures.models import ProcedureAttachment, ProcedureRequest

    client, contract_id = member_client("nayoro")
    assert post_form(client, "leak_reduction", {**LEAK, "contract_id": str(contract_id)},
                     [("r.pdf", files.pdf())]).status_code == 302
    number = filed_number(client)
    response = client.submit("/mypage/withdraw", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/withdrawn")
    with app.app_context(), tenant_context(nayoro):
        kept = db.session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_number == number))
        assert kept.member_id is None and kept.applicant_email == "taro@example.jp"
        assert db.session.scalar(select(ProcedureAttachment.request_id)) == kept.id
