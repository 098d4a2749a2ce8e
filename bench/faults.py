"""Faults under load: stop the database, the mail server, a worker and Redis, and count the damage.

    .venv/bin/python bench/faults.py --quick          # smoke run, well under a minute
    .venv/bin/python bench/faults.py                  # 10 s database, 300 s SMTP, 10 s Redis
    .venv/bin/python bench/faults.py --smtp-outage 60 --only db,smtp

Everything runs on this machine and belongs to the script: its own PostgreSQL instance
(``initdb`` in a temporary folder, trust auth, a free port; never the cluster at 5432),
its own ``redis-server`` (no persistence), an aiosmtpd server that keeps every mail it
accepts, the app under gunicorn (several sync workers, ``WATERPORTAL_ENV=production``
pointed at those services through ``FLASK_*`` variables, as an operator would run it)
and the outbox worker (``flask outbox send --loop``). Both demo cities are onboarded as
``make demo-data`` does (``flask db upgrade``, ``tenant apply``, ``demo generate``, the
imports, ``demo members``), in-process through the same CLI commands.

Load comes from a few threads: page views of both cities, the demo members logging in
and reading their pages, complete Nayoro registrations (the 6-digit code is read from
the mail the SMTP server received) and password-reset requests; each virtual client has
its own address (``X-Forwarded-For`` behind ``PROXY_FIX_X_FOR=1``), as citizens do.

Then, one at a time with the load running: PostgreSQL stopped for ``--db-outage``
seconds (``pg_ctl stop -m fast``, then start), SMTP closed for ``--smtp-outage``
seconds, one gunicorn worker killed with SIGKILL, Redis stopped for ``--redis-outage``
seconds. A first row without a fault is the control. Each row counts:

- requests that ended in the phase, 5xx (503 and 500 also apart), requests without any
  answer (connection refused or reset);
- lost registrations: the client saw 「登録処理が完了しました」's redirect but no member
  row exists afterwards;
- mails: outbox rows created in the phase, how many never reached the SMTP server (lost;
  "late" when the row is still pending after ``--drain`` seconds, "expired" when the outbox
  dropped a code mail whose code died first) and how many arrived
  more than once (matched by Message-ID, and by recipient, subject and
  body, since a mail sent again may carry a new Message-ID);
- recovery: seconds from the end of the fault to the first successful answer to a POST
  (login, registration, reset: each writes) started after it (for SMTP: to the first mail
  accepted).

Targets (issue 9 #12): no lost writes, no mail lost or sent twice, only 503 (never 500)
while the database is down, recovery within 5 s; the script also counts a 500 from any
other fault as a miss. Ctrl-C stops every process the script
started and removes its temporary folder.
"""
from __future__ import annotations

import argparse
import base64
import email
import hashlib
import http.client
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email import policy
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
from aiosmtpd.controller import Controller

from waterportal.app import create_app
from waterportal.extensions import db
from waterportal.mail.catcher import AnyPortController, body_text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CITIES = ("nayoro", "kanazawa")
DEMO_LOGINS = {  # demo/members.py: the ready-made member of each city
    "nayoro": ("demo@nayoro.localhost", "Demo2024!x"),
    "kanazawa": ("kanazawa-demo", "kanazawa2024"),
}
APP_ROLE = "waterportal_app"  # tenancy/row_security.py (issue 9 #11)
CODE = re.compile(r"(?<![\d-])\d{6}(?![\d-])")


# --- small helpers ---------------------------------------------------------------------

STARTED = time.monotonic()


def say(message: str) -> None:
    """A progress line with the seconds since the start."""
    print(f"[{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> None:
    """Poll ``check`` until it is true; RuntimeError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(step)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM the process group the script started, SIGKILL it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file (for error messages)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the services ------------------------------------------------------------------------

class Postgres:
    """A throwaway PostgreSQL instance: initdb in ``folder``, trust auth, its own port.

    As root the server runs as the ``postgres`` user (initdb refuses root).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.bin = self._bin_dir()
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @staticmethod
    def _bin_dir() -> Path:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        return found[-1].parent

    def url(self, user: str = "postgres") -> str:
        """A SQLAlchemy URL (the migrations run as ``postgres``, the owner of the tables)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/waterportal"

    def app_user(self) -> str:
        """The role the app connects as: the row-level security login role once the
        migrations created it (row-level security binds no superuser), else ``postgres``."""
        with psycopg.connect(self.dsn) as conn:
            found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s AND rolcanlogin",
                                 (APP_ROLE,)).fetchone()
        return APP_ROLE if found else "postgres"

    @property
    def dsn(self) -> str:
        """The script's own psycopg connection string."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=waterportal"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as_user, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} {args[1]} failed: {done.stderr.strip()}\n{log_tail(self.log)}")

    def init(self) -> None:
        """initdb, start, create the ``waterportal`` database."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as_user:
            self.folder.parent.chmod(0o711)  # mkdtemp's 0700 would keep the postgres user out
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C")
        self.start()
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE waterportal")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "start", "-w", "-D", str(self.data), "-l", str(self.log),
                  "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop (``fast``: running transactions are rolled back, clients disconnected)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "stop", "-w", "-D", str(self.data), "-m", mode)


class Redis:
    """redis-server on a free port without persistence (a restart forgets every counter)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait for the port."""
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_until(lambda: port_open(self.port), 10, "redis-server")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def mail_key(to: str, subject: str, body: str) -> str:
    """Recipient, subject and body: the same mail has the same key, whatever its Message-ID."""
    text = "\n".join(line.rstrip() for line in body.replace("\r\n", "\n").strip().split("\n"))
    return hashlib.sha256(f"{to.lower()}\0{subject}\0{text}".encode()).hexdigest()


@dataclass
class Received:
    """One mail the SMTP server accepted."""

    at: float
    to: str
    message_id: str
    key: str
    body: str


class SmtpSink:
    """aiosmtpd on a free port keeping every mail; ``stop``/``start`` make an outage."""

    def __init__(self) -> None:
        self.port = 0
        self.mails: list[Received] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    async def handle_DATA(self, _server, _session, envelope) -> str:
        """Keep the mail (aiosmtpd handler hook)."""
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        body = body_text(message)
        with self._changed:
            for to in envelope.rcpt_tos:
                self.mails.append(Received(time.monotonic(), to.lower(), str(message["Message-ID"] or ""),
                                           mail_key(to, str(message["Subject"] or ""), body), body))
            self._changed.notify_all()
        return "250 OK"

    def start(self) -> None:
        """Listen (again) on our port; the first start picks a free one."""
        controller = AnyPortController(self, hostname="127.0.0.1", port=self.port)
        controller.start()
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        """Close the port: connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def code_for(self, address: str, after: float, timeout: float) -> str | None:
        """The 6-digit code of the first mail to ``address`` received after ``after``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in self.mails:
                    if mail.to == address and mail.at >= after and (match := CODE.search(mail.body)):
                        return match.group(0)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def snapshot(self) -> list[Received]:
        with self._changed:
            return list(self.mails)


class AppProcesses:
    """gunicorn (sync workers) and the outbox worker, configured as production through FLASK_*."""

    def __init__(self, folder: Path, env: dict[str, str], workers: int):
        self.folder = folder
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.outbox: subprocess.Popen | None = None

    def start(self) -> None:
        """Start both; wait until gunicorn answers /healthz."""
        with open(self.folder / "gunicorn.log", "wb") as log:  # gunicorn's log and the app's tracebacks
            self.gunicorn = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "30",
                 "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        with open(self.folder / "outbox.log", "wb") as log:
            self.outbox = subprocess.Popen(
                [str(BIN / "flask"), "--app", "wsgi", "outbox", "send", "--loop", "--interval", "2"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            wait_until(lambda: len(self.worker_pids()) == self.workers and self.healthy(), 120, "gunicorn", step=0.5)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{log_tail(self.folder / 'gunicorn.log')}") from None

    def healthy(self) -> bool:
        """Whether /healthz answers (a worker has imported the app)."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False

    def worker_pids(self) -> list[int]:
        """The gunicorn workers now alive (children of the master)."""
        if self.gunicorn is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.gunicorn.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        stop_process(self.outbox)
        stop_process(self.gunicorn)


# --- onboarding ---------------------------------------------------------------------------

def production_secrets() -> dict[str, str]:
    """The keys production refuses to start without, fresh for this run."""
    return {"SECRET_KEY": secrets.token_hex(32),
            # A Fernet key (32 random bytes, URL-safe base64) for the staff's TOTP secrets.
            "TOTP_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}


def onboard(db_url: str, redis_url: str, keys: dict[str, str], folder: Path, contracts: int, months: int) -> None:
    """Both demo cities in the new database, as ``make demo-data`` builds them.

    The same CLI commands, invoked in this process (one interpreter start instead of a
    dozen) on an app configured as production.
    """
    app = create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_STORAGE_URI": redis_url,
                      **keys})
    exports = folder / "demo"
    commands = [["db", "upgrade", "heads"]]  # "heads": a branch in flight must not stop the run
    commands += [["tenant", "apply", str(ROOT / "tenants" / city)] for city in CITIES]
    commands += [["demo", "generate", "--contracts", str(contracts), "--months", str(months), str(exports)]]
    for city in CITIES:
        commands += [["import", "contracts", "--tenant", city, str(exports / city / "contracts.csv")],
                     ["import", "bills", "--tenant", city, str(exports / city / "bills.csv")]]
    commands += [["demo", "members"]]
    runner = app.test_cli_runner()
    with app.app_context():
        for args in commands:
            result = runner.invoke(args=args, catch_exceptions=True)
            if result.exit_code != 0:
                raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}")
        db.engine.dispose()


def app_env(db_url: str, redis_url: str, keys: dict[str, str], smtp_port: int, app_port: int, instance: Path,
            quick: bool) -> dict[str, str]:
    """The environment of gunicorn and the outbox worker: production, pointed at our services."""
    env = {
        **os.environ,
        "WATERPORTAL_ENV": "production",
        "WATERPORTAL_INSTANCE_PATH": str(instance),
        **{f"FLASK_{name}": value for name, value in keys.items()},
        "FLASK_SQLALCHEMY_DATABASE_URI": db_url,
        "FLASK_RATELIMIT_STORAGE_URI": redis_url,
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(smtp_port),
        "FLASK_MAIL_TIMEOUT": "5",
        "FLASK_PORTAL_BASE_URL": f"http://{{host}}:{app_port}",
        # Behind a proxy: each virtual citizen has its own address, as real ones do.
        "FLASK_PROXY_FIX_X_FOR": "1",
        "FLASK_PROXY_FIX_X_PROTO": "1",
        "PYTHONUNBUFFERED": "1",
        # gunicorn's control socket lives under $HOME: ours, not the one of every other gunicorn.
        "HOME": str(instance),
    }
    if quick:
        # A smoke run cannot wait the production backoff (30 s, 1 min, ...) for the retries.
        env.update(FLASK_MAIL_RETRY_BASE_SECONDS="1", FLASK_MAIL_RETRY_MAX_SECONDS="4")
    return env


# --- the load -----------------------------------------------------------------------------

class _Fields(HTMLParser):
    """Hidden inputs, checked radios and checkboxes of a page (CSRF token, defaults)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag != "input" or not a.get("name"):
            return
        kind = (a.get("type") or "text").lower()
        if kind == "hidden" or (kind in ("radio", "checkbox") and "checked" in a):
            self.fields.setdefault(a["name"], a.get("value") or "y")


def page_fields(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html)
    return parser.fields


@dataclass
class Outcome:
    """One request as the client saw it (status 0: no answer at all)."""

    kind: str
    method: str
    started: float
    ended: float
    status: int


class Recorder:
    """Every request's outcome, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self.acked: list[tuple[float, str]] = []  # (time, email) of completed registrations

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def ack(self, address: str) -> None:
        with self._lock:
            self.acked.append((time.monotonic(), address))

    def recent_addresses(self, count: int) -> list[str]:
        """The addresses of the latest completed registrations."""
        with self._lock:
            return [address for _, address in self.acked[-count:]]

    def ended_between(self, start: float, end: float) -> list[Outcome]:
        """The requests that ended in the window (a failure shows when the answer comes)."""
        with self._lock:
            return [o for o in self.outcomes if start <= o.ended < end]


class ServerError(Exception):
    """A 5xx or no answer: the flow in progress is abandoned."""


class Client:
    """One browser of one city: its cookies, its address; redirects are not followed."""

    def __init__(self, port: int, host: str, recorder: Recorder, kind: str):
        self.port = port
        self.host = host
        self.recorder = recorder
        self.kind = kind
        self.address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location path, body); ServerError on a 5xx or no answer."""
        headers = {"Host": self.host, "X-Forwarded-For": self.address, "X-Forwarded-Proto": "https",
                   "Referer": f"https://{self.host}{path}"}  # Flask-WTF checks the referrer over HTTPS
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        status, location, text = 0, "", ""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            status, text = response.status, response.read().decode("utf-8", "replace")
            location = urlsplit(response.getheader("Location") or "")._replace(scheme="", netloc="").geturl()
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
            conn.close()
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            self.recorder.add(Outcome(self.kind, method, started, time.monotonic(), status))
        if status == 0 or status >= 500:
            raise ServerError(f"{method} {path}: {status or 'no answer'}")
        return status, location, text

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def post(self, path: str, values: dict[str, str]) -> tuple[int, str, str]:
        """GET the form page for its CSRF token and defaults, then POST ``values`` over them."""
        _, _, page = self.get(path)
        return self.request("POST", path, {**page_fields(page), **values})


@dataclass
class Contract:
    customer_number: str
    phone: str
    kana: str


class Load:
    """The load threads: browsing, member logins, registrations, password resets."""

    def __init__(self, port: int, smtp: SmtpSink, contracts: list[Contract], recorder: Recorder,
                 code_wait: float, pause: float, cities: tuple[str, ...] = CITIES):
        self.port = port
        self.cities = cities
        self.smtp = smtp
        self.contracts = contracts
        self.recorder = recorder
        self.code_wait = code_wait
        self.pause = pause
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.run_id = secrets.token_hex(3)
        self._numbers = itertools.count(1)

    def start(self, per_kind: int) -> None:
        """``per_kind`` threads of each loop, running until :meth:`join`."""
        loops = [self.browse, self.member, self.register, self.reset]
        for loop in loops:
            for n in range(per_kind):
                thread = threading.Thread(target=self._forever, args=(loop, n), daemon=True, name=loop.__name__)
                thread.start()
                self.threads.append(thread)

    def join(self) -> None:
        """Stop the loops (each finishes its current request) and wait for them."""
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _forever(self, loop: Callable[[int], None], n: int) -> None:
        while not self.stop.is_set():
            try:
                loop(n)
            except ServerError:
                pass  # counted by the recorder; the next round starts afresh
            self.stop.wait(self.pause)

    def _host(self, city: str) -> str:
        return f"{city}.localhost:{self.port}"

    def browse(self, n: int) -> None:
        """Anonymous page views: the top page, the login page, a city page."""
        client = Client(self.port, self._host(self.cities[n % len(self.cities)]), self.recorder, "browse")
        for path in ("/", "/login", "/register/help"):
            client.get(path)

    def member(self, n: int) -> None:
        """A demo member logs in, reads the dashboard, bills and graph, logs out."""
        city = self.cities[n % len(self.cities)]
        identifier, password = DEMO_LOGINS[city]
        client = Client(self.port, self._host(city), self.recorder, "member")
        status, _, _ = client.post("/login", {"identifier": identifier, "password": password})
        if status != 302:
            return
        page = ""
        for path in ("/mypage", "/mypage/bills", "/mypage/graph"):
            _, _, page = client.get(path)
        client.request("POST", "/logout", page_fields(page))  # the page's logout form and its CSRF token

    def register(self, _n: int) -> None:
        """A complete Nayoro registration; the redirect to 完了 counts as acknowledged."""
        address = f"fault-{self.run_id}-{next(self._numbers)}@example.jp"
        contract = random.choice(self.contracts)
        client = Client(self.port, self._host("nayoro"), self.recorder, "register")
        sent_at = time.monotonic()
        status, location, _ = client.post("/register/", {"email": address})
        if not location.startswith("/register/verify"):
            return
        code = self.smtp.code_for(address, sent_at, self.code_wait)
        if code is None:
            return  # the mail did not come in time: this citizen gives up
        _, location, _ = client.post("/register/verify", {"code": code})
        if not location.startswith("/register/details"):
            return
        password = f"Suido{secrets.token_hex(4)}!"
        _, location, _ = client.post("/register/details", {
            "nickname": "名寄テスト", "password": password, "password_confirm": password,
            "customer_number": contract.customer_number, "phone": contract.phone, "holder_kana": contract.kana,
            "agree_terms": "y", "agree_privacy": "y",
        })
        if not location.startswith("/register/confirm"):
            return
        _, location, _ = client.post("/register/confirm", {})
        if location.startswith("/register/done"):
            self.recorder.ack(address)

    def reset(self, _n: int) -> None:
        """A password-reset request for a registered address (a mail) or an unknown one (none)."""
        known = self.recorder.recent_addresses(50)
        address = random.choice(known) if known and random.random() < 0.7 else f"nobody-{secrets.token_hex(4)}@example.jp"
        client = Client(self.port, self._host("nayoro"), self.recorder, "reset")
        client.post("/password/forgot", {"email": address})


# --- the faults ---------------------------------------------------------------------------

@dataclass
class Rig:
    """Every service of the run, so a fault can stop one of them."""

    pg: Postgres
    redis: Redis
    smtp: SmtpSink
    app: AppProcesses


def no_fault(_rig: Rig, _seconds: float) -> str:
    """The control row: load only."""
    return ""


def outage(service: Callable[[Rig], Postgres | Redis | SmtpSink], label: str) -> Callable[[Rig, float], str]:
    """A fault that stops a service, waits, starts it again.

    PostgreSQL stops with ``pg_ctl stop -m fast`` and its start returns once it accepts
    connections; Redis comes back empty (no persistence); SMTP refuses connections meanwhile.
    """
    def fault(rig: Rig, seconds: float) -> str:
        target = service(rig)
        target.stop()
        time.sleep(seconds)
        target.start()
        return f"{label} stopped {seconds:g} s"

    return fault


def kill_worker(rig: Rig, _seconds: float) -> str:
    """SIGKILL one gunicorn worker (the master starts another)."""
    pid = random.choice(rig.app.worker_pids())
    os.kill(pid, signal.SIGKILL)
    return f"kill -9 worker {pid}"


FAULTS: dict[str, Callable[[Rig, float], str]] = {
    "none": no_fault,
    "db": outage(lambda rig: rig.pg, "PostgreSQL"),
    "smtp": outage(lambda rig: rig.smtp, "SMTP"),
    "worker": kill_worker,
    "redis": outage(lambda rig: rig.redis, "Redis"),
}


@dataclass
class Phase:
    """The time window of one fault and the outbox ids created in it."""

    name: str
    fault: str = ""
    started: float = 0.0
    fault_end: float = 0.0
    ended: float = 0.0
    outbox_from: int = 0  # ids > outbox_from and <= outbox_to were created in the phase
    outbox_to: int = 0


@dataclass
class FaultResult:
    """One row of the table."""

    name: str
    fault: str
    requests: int = 0
    errors_5xx: int = 0
    status_503: int = 0
    status_500: int = 0
    no_answer: int = 0
    registrations: int = 0
    registrations_lost: int = 0
    mails_queued: int = 0
    mails_lost: int = 0
    mails_late: int = 0  # not received yet, still pending after the drain (backoff or a dead sender's lease)
    mails_expired: int = 0  # dropped on purpose: their code or link died before they could go
    mails_twice: int = 0
    recovery: float | None = None

    def missed(self, recovery_target: float) -> list[str]:
        """The targets this row misses, in words (empty: all met)."""
        reasons = []
        if self.status_500:
            reasons.append(f"{self.status_500} answers 500")
        if self.name == "db" and self.errors_5xx != self.status_503:
            reasons.append(f"{self.errors_5xx - self.status_503} 5xx other than 503")
        if self.registrations_lost:
            reasons.append(f"{self.registrations_lost} registrations lost")
        if self.mails_lost:
            reasons.append(f"{self.mails_lost} mails lost")
        if self.mails_late:
            reasons.append(f"{self.mails_late} mails still pending after the drain")
        if self.mails_twice:
            reasons.append(f"{self.mails_twice} mails sent twice")
        if self.name != "none" and (self.recovery is None or self.recovery > recovery_target):
            reasons.append("no recovery" if self.recovery is None else f"recovery {self.recovery:.1f} s")
        return reasons


def outbox_max_id(pg: Postgres, timeout: float = 60) -> int:
    """The newest outbox id (retried while the database comes back)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(pg.dsn, connect_timeout=3) as conn:
                return conn.execute("SELECT coalesce(max(id), 0) FROM mail_outbox").fetchone()[0]
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_phase(rig: Rig, name: str, outage: float, before: float, after: float) -> Phase:
    """Load runs ``before`` s, the fault happens, then ``after`` s more of load."""
    phase = Phase(name, started=time.monotonic(), outbox_from=outbox_max_id(rig.pg))
    time.sleep(before)
    phase.fault = FAULTS[name](rig, outage)
    phase.fault_end = time.monotonic()
    time.sleep(after)
    phase.ended = time.monotonic()
    phase.outbox_to = outbox_max_id(rig.pg)
    say(f"{name}: {phase.fault or 'no fault'} ({phase.ended - phase.started:.0f} s)")
    return phase


def drain_outbox(pg: Postgres, up_to: int, timeout: float) -> int:
    """Wait until no outbox row up to ``up_to`` is pending or sending; return how many still are."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(pg.dsn) as conn:
            pending = conn.execute("SELECT count(*) FROM mail_outbox WHERE id <= %s AND status IN ('pending', 'sending')",
                                   (up_to,)).fetchone()[0]
        if pending == 0 or time.monotonic() > deadline:
            return pending
        time.sleep(1)


# --- counting -----------------------------------------------------------------------------

def count_requests(result: FaultResult, outcomes: list[Outcome]) -> None:
    result.requests = len(outcomes)
    result.errors_5xx = sum(1 for o in outcomes if o.status >= 500)
    result.status_503 = sum(1 for o in outcomes if o.status == 503)
    result.status_500 = sum(1 for o in outcomes if o.status == 500)
    result.no_answer = sum(1 for o in outcomes if o.status == 0)


def recovery_time(phase: Phase, outcomes: list[Outcome], mails: list[Received]) -> float | None:
    """Seconds from the fault's end to the first success after it (a mail accepted, for SMTP).

    A success is a POST started after the fault's end that answered below 400: every
    POST (login, registration step, reset request) writes to the database and counts in
    Redis, where a page view may be served from a worker's memory.
    """
    if phase.name == "smtp":
        times = [m.at for m in mails if m.at >= phase.fault_end]
    else:
        times = [o.ended for o in outcomes
                 if o.method == "POST" and o.started >= phase.fault_end and 0 < o.status < 400]
    return round(min(times) - phase.fault_end, 2) if times else None


def count_mails(phases: list[Phase], results: dict[str, FaultResult], rows: list[tuple], mails: list[Received]) -> None:
    """Outbox rows against mails received, grouped by recipient + subject + body.

    A group of n rows that arrived r times is short of max(n - r, 0) mails (late while a
    row is still pending or sending, expired when the outbox dropped it on purpose, lost
    otherwise) and sent max(r - n, 0) twice; it belongs to the phase that created its
    newest row. Mails with the same Message-ID count twice as well.
    """
    received = Counter(m.key for m in mails)
    groups: dict[str, list[int]] = {}
    pending: set[str] = set()
    expired: set[str] = set()
    for row_id, to, subject, body, status in rows:
        key = mail_key(to, subject, body)
        groups.setdefault(key, []).append(row_id)
        if status in ("pending", "sending"):
            pending.add(key)
        elif status == "expired":
            expired.add(key)

    def phase_of(row_id: int) -> Phase | None:
        return next((p for p in phases if p.outbox_from < row_id <= p.outbox_to), None)

    for key, ids in groups.items():
        phase = phase_of(max(ids))
        if phase is None:
            continue
        result = results[phase.name]
        result.mails_queued += len(ids)
        short = max(len(ids) - received[key], 0)
        if key in pending:
            result.mails_late += short
        elif key in expired:
            result.mails_expired += short
        else:
            result.mails_lost += short
        result.mails_twice += max(received[key] - len(ids), 0)
    key_phase = {key: phase_of(max(ids)) for key, ids in groups.items()}
    by_id = Counter(m.message_id for m in mails if m.message_id)
    for message_id, n in by_id.items():
        if n > 1:
            key = next(m.key for m in mails if m.message_id == message_id)
            phase = key_phase.get(key)
            # A same-Message-ID repeat is a repeat of the same content too, counted above.
            if phase is not None and received[key] <= len(groups[key]):
                results[phase.name].mails_twice += n - 1


def count_results(rig: Rig, phases: list[Phase], recorder: Recorder) -> list[FaultResult]:
    """Every phase's row: requests from the recorder, writes and mails from the database and the SMTP server."""
    mails = rig.smtp.snapshot()
    with psycopg.connect(rig.pg.dsn) as conn:
        members = {row[0].lower() for row in conn.execute("SELECT email FROM members")}
        rows = conn.execute("SELECT id, to_address, subject, body, status FROM mail_outbox WHERE id <= %s",
                            (phases[-1].outbox_to,)).fetchall()
    results = {p.name: FaultResult(p.name, p.fault) for p in phases}
    for phase in phases:
        result = results[phase.name]
        outcomes = recorder.ended_between(phase.started, phase.ended)
        count_requests(result, outcomes)
        acked = [a for t, a in recorder.acked if phase.started <= t < phase.ended]
        result.registrations = len(acked)
        result.registrations_lost = sum(1 for a in acked if a not in members)
        if phase.name != "none":
            result.recovery = recovery_time(phase, recorder.ended_between(phase.fault_end, float("inf")), mails)
    count_mails(phases, results, rows, mails)
    return [results[p.name] for p in phases]


def table(results: list[FaultResult], recovery_target: float) -> str:
    """The results as a Markdown table."""
    lines = [
        "| fault | requests | 5xx | 503 | 500 | no answer | registrations (lost) | mails queued | lost (late, expired) | sent twice "
        "| recovery s | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        missed = r.missed(recovery_target)
        recovery = "-" if r.name == "none" else ("never" if r.recovery is None else f"{r.recovery:.2f}")
        lines.append(
            f"| {r.fault or 'none (control)'} | {r.requests} | {r.errors_5xx} | {r.status_503} | {r.status_500} "
            f"| {r.no_answer} | {r.registrations} ({r.registrations_lost}) | {r.mails_queued} | {r.mails_lost} ({r.mails_late}, {r.mails_expired}) "
            f"| {r.mails_twice} | {recovery} | {'met' if not missed else 'missed: ' + '; '.join(missed)} |"
        )
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------

def open_cities(port: int) -> tuple[str, ...]:
    """The cities within their service hours now (Kanazawa closes 02:00-07:00 JST: a 503
    maintenance page that is no fault); Nayoro, which is always open, registers."""
    cities = []
    for city in CITIES:
        try:
            Client(port, f"{city}.localhost:{port}", Recorder(), "probe").get("/login")
        except ServerError:
            continue
        cities.append(city)
    return tuple(cities)


def nayoro_contracts(pg: Postgres) -> list[Contract]:
    """What a citizen types to register: お客様番号, 電話番号, カナ of Nayoro's contracts."""
    with psycopg.connect(pg.dsn) as conn:
        rows = conn.execute(
            "SELECT c.customer_number, c.phone, c.holder_name_kana FROM contracts c "
            "JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'nayoro' ORDER BY c.id"
        ).fetchall()
    return [Contract(*row) for row in rows]


@contextmanager
def services(folder: Path, args: argparse.Namespace) -> Iterator[Rig]:
    """Start PostgreSQL, Redis, SMTP, onboard the cities, start the app; stop all of it on exit."""
    with ExitStack() as stack:
        pg = Postgres(folder / "pg")
        stack.callback(pg.stop, "immediate")
        say(f"PostgreSQL {pg.bin.parent.name} on port {pg.port} ({pg.data})")
        pg.init()
        redis = Redis(folder)
        stack.callback(redis.stop)
        redis.start()
        smtp = SmtpSink()
        stack.callback(smtp.stop)
        smtp.start()
        say(f"Redis on {redis.port}, SMTP on {smtp.port}; onboarding {', '.join(CITIES)} ...")
        keys = production_secrets()
        onboard(pg.url(), redis.url, keys, folder, args.contracts, args.months)
        instance = folder / "instance"
        instance.mkdir()
        app = AppProcesses(folder, {}, args.workers)
        user = pg.app_user()
        app.env = app_env(pg.url(user), redis.url, keys, smtp.port, app.port, instance, args.quick)
        stack.callback(app.stop)
        app.start()
        say(f"gunicorn -w {args.workers} on {app.port} and the outbox worker, connected as {user}")
        yield Rig(pg, redis, smtp, app)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s outages, little load, short windows")
    parser.add_argument("--db-outage", type=float, help="seconds PostgreSQL stays down (10; quick 2)")
    parser.add_argument("--smtp-outage", type=float, help="seconds SMTP stays down (300; quick 2)")
    parser.add_argument("--redis-outage", type=float, help="seconds Redis stays down (10; quick 2)")
    parser.add_argument("--only", default="none,db,smtp,worker,redis", help="phases to run, in order")
    parser.add_argument("--workers", type=int, help="gunicorn sync workers (4; quick 2)")
    parser.add_argument("--threads", type=int, help="load threads per kind (browse, member, register, reset)")
    parser.add_argument("--contracts", type=int, help="demo contracts per city")
    parser.add_argument("--months", type=int, help="months of bills per contract")
    parser.add_argument("--drain", type=float, help="most seconds to wait for the outbox at the end")
    parser.add_argument("--recovery-target", type=float, default=5.0, help="seconds (issue 9: 5)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) at the end")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {"db_outage": (10, 2), "smtp_outage": (300, 2), "redis_outage": (10, 2), "threads": (2, 1), "workers": (4, 2),
                "contracts": (300, 40), "months": (26, 3), "drain": (600, 15)}
    for name, (full, short) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    args.before, args.after, args.warmup = (1.0, 3.0, 3.0) if quick else (5.0, 15.0, 10.0)
    unknown = set(args.only.split(",")) - set(FAULTS)
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
    return args


def run(args: argparse.Namespace, folder: Path) -> list[FaultResult]:
    """Services up, load on, every phase, load off, outbox drained, then the counts."""
    outages = {"none": 0, "db": args.db_outage, "smtp": args.smtp_outage, "worker": 0, "redis": args.redis_outage}
    with services(folder, args) as rig:
        recorder = Recorder()
        cities = open_cities(rig.app.port)
        load = Load(rig.app.port, rig.smtp, nayoro_contracts(rig.pg), recorder,
                    code_wait=10 if args.quick else 30, pause=0.2, cities=cities)
        load.start(args.threads)
        say(f"load: {args.threads} thread(s) each browsing, logging in ({', '.join(cities)}), "
            "registering, resetting passwords (nayoro)")
        time.sleep(args.warmup)  # every worker has served a few pages before the control row
        phases = []
        try:
            for name in args.only.split(","):
                phases.append(run_phase(rig, name, outages[name], args.before, args.after))
        finally:
            load.join()
        say("load stopped; waiting for the outbox to drain")
        pending = drain_outbox(rig.pg, phases[-1].outbox_to, args.drain)
        if pending:
            say(f"outbox: {pending} mails still pending after {args.drain:g} s")
        return count_results(rig, phases, recorder)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM unwind through every clean-up (even where a shell started us
    # with SIGINT ignored, as it does for background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    folder = Path(tempfile.mkdtemp(prefix="waterportal-faults-"))
    started = time.monotonic()
    try:
        results = run(args, folder)
    except KeyboardInterrupt:
        print("interrupted: every process stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    command = "bench/faults.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}  {command.strip()}  ({time.monotonic() - started:.0f} s, "
          f"{args.workers} workers, {args.threads} load thread(s) per kind)\n")
    print(table(results, args.recovery_target))
    missed = any(r.missed(args.recovery_target) for r in results)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
