"""A real SMTP server for tests, and helpers to read codes and links out of captured mail.

The ``smtp_server`` and ``mail_down`` fixtures (tests/conftest.py) are built from these.
"""
from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage

from flask import Flask

from waterportal.extensions import mail
from waterportal.mail.catcher import AnyPortController, body_text

CODE = re.compile(r"(?<![\d-])\d{6}(?![\d-])")
URL = re.compile(r"https?://[^\s<>\"'「」()()、。]+")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def mail_pointed_at(app: Flask, host: str, port: int) -> Iterator[None]:
    """Point the app's Flask-Mail state at ``host:port`` for a block, then restore it."""
    saved = {key: app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port)
    mail.init_app(app)  # Flask-Mail copies the config into app.extensions["mail"]
    try:
        yield
    finally:
        app.config.update(saved)
        mail.init_app(app)


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _rcpt_options):
        if address.lower() in self.server.reject_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):
        while not self.server.released.is_set():  # hold(): the client waits on our answer
            await asyncio.sleep(0.01)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.server._changed:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server._changed.notify_all()
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port, capturing parsed mail.

    ``messages`` holds :class:`email.message.EmailMessage` objects (policy.default: headers
    such as Subject and From come back decoded); ``envelopes`` the (MAIL FROM, RCPT TO) pairs.
    ``stop()`` closes the port (an outage); ``start()`` opens it again on the same port.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject_recipients: set[str] = set()
        self.released = threading.Event()
        self.released.set()
        self._changed = threading.Condition()
        self._controller: AnyPortController | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpServer:
        """Listen (again) on our port; the first start picks a free one."""
        if self._controller is None:
            controller = AnyPortController(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self.port = controller.port
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep every DATA command waiting until the block ends (a slow server)."""
        self.released.clear()
        try:
            yield
        finally:
            self.released.set()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least ``count`` mails arrived; return all of them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")
                self._changed.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail whose To header names ``address`` (case-insensitive), oldest first."""
        wanted = address.lower()
        return [m for m in self.messages if any(a.addr_spec.lower() == wanted for a in m["To"].addresses)]

    def last_to(self, address: str) -> EmailMessage:
        """The latest mail to ``address``; AssertionError when there is none."""
        found = self.to(address)
        assert found, f"no mail to {address}; got mail to {[str(m['To']) for m in self.messages]}"
        return found[-1]

    def clear(self) -> None:
        """Forget the mails received so far."""
        with self._changed:
            self.messages.clear()
            self.envelopes.clear()


@contextmanager
def running_smtp_server(app: Flask) -> Iterator[SmtpServer]:
    """Start a :class:`SmtpServer` and point the app at it for a block."""
    server = SmtpServer().start()
    try:
        with mail_pointed_at(app, server.host, server.port):
            yield server
    finally:
        server.stop()


def body_of(message_or_text: EmailMessage | str) -> str:
    """The decoded plain-text body of a captured mail (a str is returned as is)."""
    if isinstance(message_or_text, str):
        return message_or_text
    return body_text(message_or_text).replace("\r\n", "\n")


def find_code(message_or_text: EmailMessage | str) -> str:
    """The first 6-digit code in a mail body (phone numbers with hyphens are skipped)."""
    text = body_of(message_or_text)
    match = CODE.search(text)
    assert match, f"no 6-digit code in mail body:\n{text}"
    return match.group(0)


def find_url(message_or_text: EmailMessage | str, contains: str = "") -> str:
    """The first link in a mail body that contains ``contains`` (e.g. a path)."""
    text = body_of(message_or_text)
    for url in URL.findall(text):
        if contains in url:
            return url
    raise AssertionError(f"no link containing {contains!r} in mail body:\n{text}")
