"""The demo mail catcher and the test helpers that read codes and links out of mail."""
from __future__ import annotations

import email
import io
import os
import signal
import smtplib
import subprocess
import sys
from email import policy
from email.message import EmailMessage

import pytest
import time_machine

from tests.smtp import find_code, find_url, mail_pointed_at
from waterportal.extensions import db
from waterportal.mail import catcher
from waterportal.mail.sender import send_due
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import tenant_context

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def test_catcher_saves_and_prints_what_the_sender_sends(app_ctx, app, nayoro, tmp_path):
    out = io.StringIO()
    server = catcher.start("127.0.0.1", 0, tmp_path / "demo-mail", stream=out)
    try:
        with time_machine.travel("2025-06-10 03:00Z", tick=False):
            with tenant_context(nayoro):
                queue_mail(nayoro, "taro@example.jp", "check")
            db.session.commit()
            with mail_pointed_at(app, "127.0.0.1", server.port):
                assert send_due().sent == 1
    finally:
        server.stop()

    [saved] = sorted((tmp_path / "demo-mail").glob("*.eml"))
    mail = email.message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert mail["Subject"] == "【名寄市上下水道ポータル】メール送信の確認"
    printed = out.getvalue()
    assert "To:      taro@example.jp" in printed
    assert "Subject: 【名寄市上下水道ポータル】メール送信の確認" in printed
    assert "From:    名寄市上下水道ポータル <noreply@nayoro.localhost>" in printed
    assert "http://nayoro.localhost/" in printed  # the decoded body, readable in the terminal
    assert f"Saved:   {saved}" in printed


def test_catcher_command_runs_in_the_foreground_until_sigterm(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "waterportal.mail.catcher", "--port", "0", "--dir", str(tmp_path / "mail")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("mail catcher listening on 127.0.0.1:"), first + proc.stderr.read()
        port = int(first.split(":")[1].split(",")[0])
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.jp", "b@example.jp", "確認コード"
        message.set_content("確認コードは 482913 です。")
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.send_message(message)
        lines = [proc.stdout.readline() for _ in range(7)]
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "To:      b@example.jp\n" in lines and "Subject: 確認コード\n" in lines
    assert "確認コードは 482913 です。\n" in lines
    assert rest.strip() == "mail catcher stopped"
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_catcher_reports_a_port_in_use(tmp_path, capsys):
    server = catcher.start("127.0.0.1", 0, tmp_path, stream=io.StringIO())
    try:
        assert catcher.main(["--port", str(server.port), "--dir", str(tmp_path)]) == 1
    finally:
        server.stop()
    assert f"cannot listen on 127.0.0.1:{server.port}" in capsys.readouterr().err


def test_find_code_skips_phone_numbers_and_longer_numbers():
    body = "お客さま番号 1234567\n電話 01654-3-2111\n確認コード: 048213\n有効期限は30分です。"
    assert find_code(body) == "048213"
    with pytest.raises(AssertionError, match="no 6-digit code"):
        find_code("電話 076-220-2111")


def test_find_url_picks_the_link_with_a_path():
    body = "こちら(https://nayoro.localhost/reset/abc.DEF-123)から。\nトップ: https://nayoro.localhost/\n"
    assert find_url(body, "/reset/") == "https://nayoro.localhost/reset/abc.DEF-123"
    assert find_url(body) == "https://nayoro.localhost/reset/abc.DEF-123"
    with pytest.raises(AssertionError, match="no link containing '/verify'"):
        find_url(body, "/verify")
