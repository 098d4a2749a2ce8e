"""Attachment rules: type by content, per-file size, count, names; every refusal names its limit."""
from __future__ import annotations

import hashlib
import io

import pytest
from werkzeug.datastructures import FileStorage

from tests.procedures import files
from waterportal.core.files import GIF, HEIC, JPEG, OLE, PDF, PNG, WEBP, ZIP, safe_filename, sniff
from waterportal.procedures.attachments import (
    ACCEPT_ATTRIBUTE,
    AttachmentLimits,
    AttachmentRefused,
    Upload,
    check_uploads,
    read_uploads,
)

LIMITS = AttachmentLimits(max_files=3, max_bytes=1024 * 1024)


def check_files(sent, limits: AttachmentLimits):
    """What a view does with a form's file fields."""
    return check_uploads(read_uploads(sent, limits), limits)


def upload(name: str, data: bytes, claimed: str = "application/octet-stream") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=claimed)


@pytest.mark.parametrize("make, expected", [
    (files.jpeg, JPEG), (files.png, PNG), (files.pdf, PDF), (files.gif, GIF), (files.webp, WEBP),
    (files.heic, HEIC), (files.zip_archive, ZIP),
])
def test_sniff_tells_real_files_by_their_first_bytes(make, expected):
    assert sniff(make()) == expected


def test_sniff_knows_nothing_of_text_svg_or_empty():
    assert sniff(files.SVG) is None
    assert sniff(files.HTML) is None
    assert sniff(b"") is None
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50) == OLE


def test_jpeg_png_and_pdf_are_accepted_with_type_from_content_not_name_or_claim():
    sent = [upload("IMG_0001.JPG", files.jpeg(), "image/png"),
            upload("配管.png", files.png(), "text/html"),
            upload("領収書.pdf", files.pdf(), "image/jpeg")]
    checked = check_files(sent, LIMITS)
    assert [(c.filename, c.content_type) for c in checked] == [
        ("IMG_0001.JPG", JPEG), ("配管.png", PNG), ("領収書.pdf", PDF)]
    data = files.pdf()
    only = check_files([upload("r.pdf", data)], LIMITS)[0]
    assert (only.size, only.sha256, only.data) == (len(data), hashlib.sha256(data).hexdigest(), data)


def test_a_name_whose_extension_lies_gets_the_real_one():
    checked = check_files([upload("receipt.pdf", files.jpeg()), upload("photo", files.png()),
                           upload("a.jpeg", files.jpeg())], LIMITS)
    assert [c.filename for c in checked] == ["receipt.pdf.jpg", "photo.png", "a.jpeg"]


@pytest.mark.parametrize("name, data, words", [
    ("photo.jpg", files.SVG, "添付できない種類"),
    ("page.pdf", files.HTML, "添付できない種類"),
    ("anim.gif", files.gif(), "(GIF 形式)は添付できない種類"),
    ("photo.webp", files.webp(), "(WebP 形式)"),
    ("docs.zip", files.zip_archive(), "(ZIP 形式)"),
    ("IMG_0002.HEIC", files.heic(), "HEIC 形式の写真のため添付できません"),
    ("empty.jpg", b"", "空のファイル"),
])
def test_other_types_and_empty_files_are_refused_by_content(name, data, words):
    with pytest.raises(AttachmentRefused) as refused:
        check_files([upload(name, data, "image/jpeg")], LIMITS)
    assert refused.value.messages[0].startswith(f"「{name}」")
    assert words in refused.value.messages[0]


def test_a_file_over_the_size_limit_is_refused_naming_the_limit():
    big = files.jpeg() + b"\x00" * (1024 * 1024)
    with pytest.raises(AttachmentRefused) as refused:
        check_files([upload("big.jpg", big)], LIMITS)
    assert refused.value.messages == ["「big.jpg」は大きすぎます(1 ファイル 1 MB までです)。"]
    exactly = files.jpeg().ljust(1024 * 1024, b"\x00")
    assert check_files([upload("max.jpg", exactly)], LIMITS)[0].size == 1024 * 1024


def test_more_files_than_allowed_are_refused_naming_the_count():
    with pytest.raises(AttachmentRefused) as refused:
        check_files([upload(f"{n}.jpg", files.jpeg()) for n in range(4)], LIMITS)
    assert refused.value.messages == ["添付できるファイルは 3 件までです(4 件選択されています)。"]


def test_every_bad_file_is_named_at_once_and_empty_fields_are_no_files():
    sent = [upload("", b""), upload("ok.png", files.png()), upload("a.svg", files.SVG), upload("b.txt", b"hello"), None]
    with pytest.raises(AttachmentRefused) as refused:
        check_files(sent, LIMITS)
    assert [m[:7] for m in refused.value.messages] == ["「a.svg」", "「b.txt」"]
    assert check_files([upload("", b""), None], LIMITS) == []


def test_hostile_names_are_cleaned():
    checked = check_files([upload("../../etc/pass\x00wd.png", files.png()),
                           upload("C:\\Users\\taro\\写真.jpg", files.jpeg()),
                           upload('<script>"x".pdf', files.pdf()),
                           upload("..", files.pdf()),
                           upload("あ" * 300 + ".pdf", files.pdf())], AttachmentLimits(5, 1024 * 1024))
    names = [c.filename for c in checked]
    assert names[:4] == ["passwd.png", "写真.jpg", "scriptx.pdf", "添付4.pdf"]
    assert len(names[4]) == 120 and names[4].endswith(".pdf")
    assert safe_filename("\u202egpj.exe", "x") == "gpj.exe"  # no bidi override


def test_limits_come_from_the_city_settings_and_the_hint_names_them():
    limits = AttachmentLimits.of({"attachment_max_files": 4, "attachment_max_mb": 7})
    assert (limits.max_files, limits.max_bytes, limits.max_mb) == (4, 7 * 1024 * 1024, 7)
    assert limits.hint() == "JPEG・PNG の写真または PDF を 4 件まで(1 ファイル 7 MB まで)添付できます。"
    assert "image/jpeg" in ACCEPT_ATTRIBUTE and "heic" not in ACCEPT_ATTRIBUTE


def test_reading_a_field_stops_just_past_the_limit_and_keeps_the_claimed_type():
    stream = io.BytesIO(b"x" * (3 * 1024 * 1024))
    read = read_uploads([FileStorage(stream, filename="big.jpg", content_type="image/jpeg")], LIMITS)
    assert [(u.filename, u.content_type, len(u.data)) for u in read] == [("big.jpg", "image/jpeg", 1024 * 1024 + 1)]


def test_uploads_built_by_the_demo_or_a_service_are_checked_the_same_way():
    checked = check_uploads([Upload("receipt.pdf", "image/png", files.pdf()), Upload("", "", b"")], LIMITS)
    assert [(c.filename, c.content_type) for c in checked] == [("receipt.pdf", PDF)]
    with pytest.raises(AttachmentRefused):
        check_uploads([Upload("", "", files.SVG)], LIMITS)
