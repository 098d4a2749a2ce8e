"""Concurrent citizens against the portal under gunicorn: logins, registrations, page views.

    .venv/bin/python bench/load.py                      # 64 clients, 60 s, make demo's SQLite set-up
    .venv/bin/python bench/load.py --clients 8 --seconds 5 --contracts 20 --months 2   # smoke run
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --database sqlite:///instance/waterportal.sqlite3

Without ``--url`` it builds what ``make demo`` builds, in a temporary folder (``flask db
upgrade``, both cities, the demo exports through the real import, the demo members) and
serves it as ``make serve`` does: the mail catcher, the outbox worker and gunicorn
(``--workers`` processes with 8 threads, the demo's embedded SQLite file). The clients send
``X-Forwarded-For`` (the server trusts one proxy), so each is its own citizen to the
per-address throttles, as behind a city's reverse proxy.

Each client loops over one of four journeys, chosen at random by weight:

- **view**: the login page, a city page, the FAQ (anonymous);
- **login**: the demo member logs in, opens /mypage and its bills, logs out;
- **register**: Nayoro's 会員登録, steps 1/4 to 4/4, with a new email address; the 6-digit
  code is read from the outbox table (``--database``) as the citizen reads it in the mail;
- **reset**: パスワードを忘れた方 for the demo member's address.

It prints, per journey, the HTTP requests, 5xx answers, 429s, other failures (a journey
that did not reach its page: a wrong redirect or a refused form), and the p50/p99
latency, then exits 1 if any request answered 5xx (``--allow-5xx`` to only report).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import create_engine, text

from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import fixed_contracts

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CODE_IN_MAIL = re.compile(r"検証コード: (\d{6})")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
DEMO_EMAIL, DEMO_PASSWORD = "demo@nayoro.localhost", "Demo2024!x"
REGISTER_PASSWORD = "Suido#2026ab"  # noqa: S105 - the password of the bench's new members
WEIGHTS = {"view": 45, "login": 30, "register": 15, "reset": 10}


class JourneyFailed(Exception):
    """A page in a journey was not the expected one (not a server error)."""


@dataclass
class Stats:
    """What one journey kind saw."""

    latencies: list[float] = field(default_factory=list)
    server_errors: int = 0
    throttled: int = 0
    failures: int = 0
    journeys: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class Client:
    """One browser: its own connection, cookies and address, talking to one city's host."""

    def __init__(self, base: str, host: str, address: str, stats: dict[str, Stats], lock: threading.Lock):
        parts = urlsplit(base)
        self.netloc, self.host, self.address = parts.netloc, host, address
        self.cookies: dict[str, str] = {}
        self.stats, self.lock = stats, lock
        self.kind = "view"
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            host, _, port = self.netloc.partition(":")
            self.conn = http.client.HTTPConnection(host, int(port or 80), timeout=60)
        return self.conn

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """Send one request; return status, Location and body. Records latency and status."""
        headers = {"Host": self.host, "X-Forwarded-For": self.address, "User-Agent": "bench-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (TimeoutError, ConnectionError, http.client.HTTPException):
                # A kept-alive connection the server closed: reconnect once.
                self.conn.close() if self.conn else None
                self.conn = None
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - started
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conn = None
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                expired = "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower()
                if expired:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = cookie_value
        with self.lock:
            stats = self.stats[self.kind]
            stats.latencies.append(elapsed)
            stats.statuses[response.status] += 1
            if response.status >= 500:
                stats.server_errors += 1
            elif response.status == 429:
                stats.throttled += 1
        return response.status, response.getheader("Location", ""), text

    def get(self, path: str, expect: int = 200) -> str:
        status, location, text = self.request("GET", path)
        if status != expect:
            raise JourneyFailed(f"GET {path}: {status} {location}")
        return location if expect == 302 else text

    def submit(self, path: str, form: dict, page: str | None = None, expect: str | None = None) -> str:
        """POST ``form`` with the CSRF token of ``page`` (default ``path``); expect a redirect to ``expect``."""
        text = self.get(page or path)
        match = CSRF.search(text)
        if not match:
            raise JourneyFailed(f"no form on {page or path}")
        status, location, body = self.request("POST", path, {"csrf_token": match.group(1) or match.group(2), **form})
        if expect is not None and (status != 302 or not urlsplit(location).path.endswith(expect)):
            raise JourneyFailed(f"POST {path}: {status} {location} {extract_message(body)}")
        return location


def extract_message(body: str) -> str:
    """The first error-looking line of a page (to say why a journey failed)."""
    match = re.search(r'class="[^"]*(?:error|alert|message)[^"]*"[^>]*>\s*([^<]{1,120})', body)
    return match.group(1).strip() if match else ""


class Codes:
    """Reads the newest verification code mailed to an address from the outbox table."""

    def __init__(self, url: str):
        self.engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        self.query = text(
            "SELECT body FROM mail_outbox WHERE to_address = :to AND kind = 'verification_code' ORDER BY id DESC LIMIT 1"
        )

    def latest(self, email: str) -> str:
        for _ in range(50):
            with self.engine.connect() as conn:
                body = conn.execute(self.query, {"to": email}).scalar()
            match = CODE_IN_MAIL.search(body or "")
            if match:
                return match.group(1)
            time.sleep(0.1)
        raise JourneyFailed(f"no code mailed to {email}")


@dataclass(frozen=True)
class Household:
    customer_number: str
    phone: str
    kana: str


def households(demo_dir: Path | None) -> list[Household]:
    """Nayoro's contracts to register with: every contract of the demo export, else the fixed ones."""
    if demo_dir and (demo_dir / "nayoro" / "contracts.csv").is_file():
        with open(demo_dir / "nayoro" / "contracts.csv", encoding="utf-8") as handle:
            return [Household(row["customer_number"], row["phone"].replace("-", ""),
                              row["holder_name_kana"].replace(" ", "").replace("\u3000", ""))
                    for row in csv.DictReader(handle)]
    return [Household(h.customer_number, h.phone, h.holder_name_kana) for h in fixed_contracts(PROFILES["nayoro"])]


def view(client: Client, _ctx: dict) -> None:
    client.get("/login")
    client.get("/pages/about") if random.random() < 0.5 else client.get("/faq")


def login(client: Client, _ctx: dict) -> None:
    client.submit("/login", {"identifier": DEMO_EMAIL, "password": DEMO_PASSWORD}, expect="/mypage")
    client.get("/mypage")
    client.get("/mypage/bills")
    client.submit("/logout", {}, page="/mypage", expect="/login")


def register(client: Client, ctx: dict) -> None:
    email = f"load-{uuid.uuid4().hex[:12]}@example.jp"
    household = random.choice(ctx["households"])
    client.submit("/register/", {"email": email}, expect="/register/verify")
    client.submit("/register/verify", {"code": ctx["codes"].latest(email)}, expect="/register/details")
    client.submit("/register/details", {
        "nickname": "負荷試験", "password": REGISTER_PASSWORD, "password_confirm": REGISTER_PASSWORD,
        "customer_number": household.customer_number, "phone": household.phone,
        "holder_kana": household.kana, "agree_terms": "y", "agree_privacy": "y",
        "relationship": "本人", "payment_method": "アプリ決済に切り替えない",
    }, expect="/register/confirm")
    client.submit("/register/confirm", {}, expect="/register/done")
    client.get("/register/done")  # no automatic login: the new member logs in as any other


def reset(client: Client, _ctx: dict) -> None:
    client.submit("/password/forgot", {"email": DEMO_EMAIL})


JOURNEYS = {"view": view, "login": login, "register": register, "reset": reset}


def run_clients(base: str, clients: int, seconds: float, ctx: dict) -> dict[str, Stats]:
    """``clients`` threads, each looping over random journeys until ``seconds`` have passed."""
    stats: dict[str, Stats] = defaultdict(Stats)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    port = urlsplit(base).port
    host = f"nayoro.localhost:{port}" if port else "nayoro.localhost"

    def loop(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            client = Client(base, host, f"10.64.{number // 250}.{number % 250 + 1}", stats, lock)
            client.kind = rng.choices(kinds, weights)[0]
            try:
                JOURNEYS[client.kind](client, ctx)
            except JourneyFailed as exc:
                with lock:
                    stats[client.kind].failures += 1
                    ctx["why"].setdefault(client.kind, str(exc))
            except OSError as exc:  # refused or reset connection: counted as a server failure
                with lock:
                    stats[client.kind].server_errors += 1
                    stats[client.kind].failures += 1
                    ctx["why"].setdefault(client.kind, repr(exc))
            else:
                with lock:
                    stats[client.kind].journeys += 1

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(stats: dict[str, Stats], seconds: float, why: dict[str, str]) -> int:
    """Print the table; return the total of 5xx answers."""
    print(f"{'journey':<9} {'requests':>8} {'5xx':>5} {'429':>5} {'journeys':>8} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7}")
    total = Stats()
    for kind in WEIGHTS:
        s = stats.get(kind, Stats())
        total.latencies += s.latencies
        total.server_errors += s.server_errors
        total.throttled += s.throttled
        total.failures += s.failures
        total.journeys += s.journeys
        for name, row in ((kind, s),):
            print(f"{name:<9} {len(row.latencies):>8} {row.server_errors:>5} {row.throttled:>5} {row.journeys:>8} "
                  f"{row.failures:>6} {percentile(row.latencies, .5) * 1000:>7.0f} {percentile(row.latencies, .99) * 1000:>7.0f}")
    print(f"{'all':<9} {len(total.latencies):>8} {total.server_errors:>5} {total.throttled:>5} {total.journeys:>8} "
          f"{total.failures:>6} {percentile(total.latencies, .5) * 1000:>7.0f} {percentile(total.latencies, .99) * 1000:>7.0f}")
    print(f"{len(total.latencies) / seconds:.1f} requests/s")
    for kind, reason in why.items():
        print(f"first failure of {kind}: {reason}")
    return total.server_errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The commands of `make demo-data`, run in one child process (one start-up instead of twelve).
BUILD = """
import sys
from wsgi import app
for args in [line.split() for line in sys.argv[1:]]:
    with app.app_context():  # a fresh one per command, as each `flask` run has
        result = app.test_cli_runner().invoke(args=args, catch_exceptions=False)
    if result.exit_code:
        sys.exit(f"flask {' '.join(args)} failed: {result.output}")
"""


def build_demo(workdir: Path, env: dict, contracts: int, months: int) -> None:
    """What `make demo-data` does, in ``workdir``."""
    demo = workdir / "demo"
    commands = ["db upgrade", *(f"tenant apply tenants/{city}" for city in ("nayoro", "kanazawa")),
                f"demo generate --contracts {contracts} --months {months} {demo}"]
    for city in ("nayoro", "kanazawa"):
        commands += [f"import contracts --tenant {city} {demo / city / 'contracts.csv'}",
                     f"import bills --tenant {city} {demo / city / 'bills.csv'}",
                     f"import documents --tenant {city} {demo / city / 'documents'}"]
    commands.append("demo members")
    subprocess.run([str(BIN / "python"), "-c", BUILD, *commands], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def wait_for(port: int, timeout: float = 120) -> None:
    """Until /healthz answers 200 (gunicorn listens before its workers have loaded the app)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"/healthz did not answer on port {port} within {timeout:.0f} s")


def serve(workdir: Path, env: dict, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """Start the catcher, the outbox worker and gunicorn as `make serve` does; return the URL."""
    port, mail_port = free_port(), free_port()
    env = {**env, "FLASK_MAIL_PORT": str(mail_port), "FLASK_PORTAL_BASE_URL": f"http://{{host}}:{port}",
           "FLASK_PROXY_FIX_X_FOR": "1"}
    logs = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the processes
    processes = [
        subprocess.Popen([str(BIN / "python"), "-m", "waterportal.mail.catcher", "--port", str(mail_port),
                          "--dir", str(workdir / "mail")], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=logs),
        subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "outbox", "send", "--loop", "--interval", "5"],
                         cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=logs),
        subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "--threads", "8", "-b", f"127.0.0.1:{port}",
                          "wsgi:app"], cwd=REPO, env=env, stdout=logs, stderr=logs),
    ]
    wait_for(port)
    return f"http://127.0.0.1:{port}", processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (8 threads each)")
    parser.add_argument("--contracts", type=int, default=300, help="demo contracts per city (make demo: 300)")
    parser.add_argument("--months", type=int, default=26, help="demo months of bills (make demo: 26)")
    parser.add_argument("--url", help="a running portal instead of starting one (its Nayoro host must be nayoro.localhost)")
    parser.add_argument("--database", help="with --url: the database URL to read the verification codes from")
    parser.add_argument("--demo-dir", type=Path, help="with --url: the demo exports (for Nayoro's contracts)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server.log, database)")
    parser.add_argument("--allow-5xx", action="store_true", help="report 5xx answers without failing")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="wp-load-"))
    processes: list[subprocess.Popen] = []
    try:
        if args.url:
            if not args.database:
                parser.error("--url needs --database (where the verification codes are read)")
            base, database, demo_dir = args.url.rstrip("/"), args.database, args.demo_dir
        else:
            env = {**os.environ, "WATERPORTAL_ENV": "development", "WATERPORTAL_INSTANCE_PATH": str(workdir),
                   "PYTHONUNBUFFERED": "1"}
            env.pop("FLASK_SQLALCHEMY_DATABASE_URI", None)
            started = time.monotonic()
            build_demo(workdir, env, args.contracts, args.months)
            print(f"demo database built in {time.monotonic() - started:.1f} s: {workdir / 'waterportal.sqlite3'}")
            base, processes = serve(workdir, env, args.workers)
            database, demo_dir = f"sqlite:///{workdir / 'waterportal.sqlite3'}", workdir / "demo"
        ctx = {"codes": Codes(database), "households": households(demo_dir), "why": {}}
        print(f"{dt.datetime.now():%Y-%m-%d %H:%M} {args.clients} clients for {args.seconds:g} s against {base}"
              f"{'' if args.url else f' (gunicorn -w {args.workers} --threads 8, SQLite)'}")
        stats = run_clients(base, args.clients, args.seconds, ctx)
        errors = report(stats, args.seconds, ctx["why"])
    finally:
        stop(processes)
        if processes and (workdir / "server.log").is_file():
            tracebacks = (workdir / "server.log").read_text(errors="replace").count("Traceback")
            print(f"server log: {tracebacks} tracebacks ({workdir / 'server.log'})")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if errors and not args.allow_5xx:
        print(f"FAIL: {errors} answers 5xx")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
