"""Demo mail catcher: a real SMTP server that keeps every mail as a .eml file and prints it.

    python -m waterportal.mail.catcher --port 8025 --dir demo-mail

Each mail is written to ``<dir>/<time>-<n>.eml`` and its To, Subject and decoded body are
printed to stdout, so a tester can read a 6-digit code or a link. Runs in the foreground
until SIGTERM or Ctrl-C. Development and demos only: it accepts mail for anyone.
"""
from __future__ import annotations

import argparse
import datetime as dt
import email
import itertools
import signal
import sys
import threading
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TextIO

from aiosmtpd.controller import Controller


class AnyPortController(Controller):
    """aiosmtpd's controller, able to bind port 0 (it learns the real port before use)."""

    def _run(self, ready_event: threading.Event) -> None:
        try:
            super()._run(ready_event)
        finally:
            ready_event.set()  # a failed bind wakes start() at once instead of after its timeout

    def _trigger_server(self) -> None:
        if self._thread_exception is not None:
            raise self._thread_exception
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def start(self) -> None:
        """Start serving; when binding fails, close the event loop aiosmtpd leaves open."""
        try:
            super().start()
        except Exception:
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if not self.loop.is_closed():
                self.loop.close()
            raise


def body_text(message: EmailMessage) -> str:
    """The decoded plain-text body of a mail (the first text/plain part)."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class CatcherHandler:
    """aiosmtpd handler: save to ``directory`` and print a readable summary to ``stream``."""

    def __init__(self, directory: Path, stream: TextIO = sys.stdout):
        self.directory = directory
        self.stream = stream
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, _server, _session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        with self._lock:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.directory / f"{stamp}-{next(self._counter):04d}.eml"
            path.write_bytes(raw)
            text = body_text(message).replace("\r\n", "\n").rstrip("\n")
            self.stream.write(
                "=" * 60 + "\n"
                f"To:      {', '.join(envelope.rcpt_tos)}\n"
                f"From:    {message['From']}\n"
                f"Subject: {message['Subject']}\n"
                f"Saved:   {path}\n"
                + "-" * 60 + "\n"
                f"{text}\n"
            )
            self.stream.flush()
        return "250 OK"


def start(host: str, port: int, directory: Path, stream: TextIO = sys.stdout) -> Controller:
    """Start the catcher in a background thread; ``.port`` is the bound port (0 picks one)."""
    directory.mkdir(parents=True, exist_ok=True)
    controller = AnyPortController(CatcherHandler(directory, stream), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    """Run the catcher in the foreground until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m waterportal.mail.catcher", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8025, help="SMTP port (default 8025; 0 picks a free one)")
    parser.add_argument("--dir", type=Path, default=Path("demo-mail"), help="folder for the .eml files")
    args = parser.parse_args(argv)

    try:
        controller = start(args.host, args.port, args.dir)
    except OSError as exc:
        print(f"mail catcher: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"mail catcher listening on {args.host}:{controller.port}, saving to {args.dir}/", flush=True)
    while not stop.wait(3600):
        pass
    controller.stop()
    print("mail catcher stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
