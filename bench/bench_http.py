"""Requests a second of the member dashboard and /pages/about under gunicorn, beside two
baselines served by the same gunicorn in the same run (issue 10).

    .venv/bin/python bench/bench_http.py                      # SQLite (make demo's set-up)
    .venv/bin/python bench/bench_http.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_http.py --seconds 1 --rounds 1 --workers 1 --contracts 5 --months 2 --no-doc  # smoke

It builds what ``make demo`` builds in a temporary folder (on SQLite, or on a new PostgreSQL
database where the portal connects as the row-security role ``waterportal_app``), adds
``--members`` members a city (one password hash shared), and starts three gunicorns
(``-w 4`` sync): the portal, a bare Flask app doing one ``SELECT 1`` on the same database
(bench/http_baselines.py ``one_select``) and a bare Flask hello. Each member is logged in
through the real form; the dashboard load rotates their cookies (both cities). wrk
(``-t2 -c8``, or Python threads when wrk is missing) then measures, in ``--rounds``
interleaved rounds: dashboard, one_select, /pages/about (anonymous, then logged in), hello.
It prints the req/s of each, the ratios dashboard/one_select and about/hello, the p99s, the
servers' CPU per request (from /proc: what a figure costs whatever share of the shared cores
it got, so the steadier ratio on a loaded machine), and (without
``--no-doc``) writes the dated rows into docs/performance.md. Exit 1 on any 4xx/5xx answer, or when more than
one request in a thousand is lost on the socket (reset, timed out: now and then on a loaded
machine; the server logs' errors are printed then).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from load import BIN, REPO, build_demo, free_port, stop, wait_for
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PASSWORD = "Bench2024!x"  # noqa: S105 - the bench members' shared password
DOC = REPO / "docs" / "performance.md"
SECTION = "## Request cost under gunicorn (bench/bench_http.py)"

# Extra members of each city, linked to the first contracts of the demo export (one hash).
ADD_MEMBERS = """
import datetime as dt, sys
from sqlalchemy import select
from wsgi import app
from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry
count, password = int(sys.argv[1]), sys.argv[2]
with app.app_context():
    hashed = hash_password(password)
    for slug in ("nayoro", "kanazawa"):
        tenant = get_registry().by_slug(slug)
        with tenant_context(tenant):
            ids = db.session.scalars(select(Contract.id).order_by(Contract.id).limit(count)).all()
            for i, contract_id in enumerate(ids):
                member = Member(email=f"bench{i}@{slug}.example.jp", login_id=f"bench{i}" if slug == "kanazawa" else None,
                                nickname="ベンチ", password_hash=hashed, data_visible_from=dt.date(2020, 1, 1))
                db.session.add(member)
                db.session.flush()
                db.session.add(MemberContract(member_id=member.id, contract_id=contract_id))
            db.session.commit()
"""

WRK_SCRIPT = """
local cookies = {%s}
local host = "%s"
local n = 0
request = function()
  n = n + 1
  local headers = {["Host"] = host}
  if #cookies > 0 then headers["Cookie"] = cookies[(n %% #cookies) + 1] end
  return wrk.format("GET", "%s", headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(99), summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
"""


def start_gunicorn(workdir: Path, env: dict, app: str, workers: int, cwd: Path, name: str) -> tuple[int, subprocess.Popen]:
    port = free_port()
    logs = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
                                app], cwd=cwd, env=env, stdout=logs, stderr=logs)
    return port, process


def wait_any(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} did not answer within {timeout:.0f} s")


def log_in(port: int, host: str, identifier: str) -> str | None:
    """The session cookie of a member logged in through the real form, None if refused."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = f"identifier={identifier}&password={PASSWORD}"
    conn.request("POST", "/login", body=body, headers={
        "Host": host, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookies = [value.split(";", 1)[0] for name, value in response.getheaders() if name.lower() == "set-cookie"]
    if response.status != 302 or "/login" in (response.getheader("Location") or "/login") or not cookies:
        print(f"login of {identifier} at {host}: {response.status} {response.getheader('Location')}")
        return None
    return "; ".join(cookies)


def expect(port: int, path: str, host: str, cookie: str, marker: str) -> None:
    """Exit unless ``path`` answers 200 with ``marker`` in the page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": host, **({"Cookie": cookie} if cookie else {})})
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    if response.status != 200 or marker not in body:
        raise SystemExit(f"{host}{path} answered {response.status} without {marker!r}: {body[:300]}")


def run_wrk(port: int, path: str, host: str, cookies: list[str], seconds: float, connections: int,
            workdir: Path) -> tuple[float, float, int]:
    """(req/s, p99 ms, failed answers) of ``seconds`` of load at ``connections``."""
    script = workdir / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    script.write_text(WRK_SCRIPT % (", ".join(f'"{c}"' for c in cookies), host, path))
    run = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                          "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True)
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", run.stdout)
    if found is None:
        raise SystemExit(run.stdout + run.stderr)
    requests, duration_us, p99_us, *errors = map(int, found.groups())
    # wrk counts non-2xx/3xx answers as status errors; the others are the socket's.
    if any(errors):
        print(f"{host}{path}: wrk errors " + ", ".join(
            f"{kind} {count}" for kind, count in zip(("status", "connect", "read", "write", "timeout"), errors,
                                                      strict=True) if count))
    return requests / (duration_us / 1e6), p99_us / 1000, failed_answers(errors[0], sum(errors[1:]), requests)


def failed_answers(wrong: int, lost: int, requests: int) -> int:
    """What fails the run: every wrong answer (4xx, 5xx: the portal's fault), and lost ones
    (connection reset, timed out: a loaded machine's, now and then) past one in a thousand."""
    if lost:
        print(f"  {lost} of {requests} requests lost on the socket ({'counted' if lost * 1000 > requests else 'tolerated'}: "
              "more than one in a thousand fails the run)")
    return wrong + (lost if lost * 1000 > requests else 0)


def run_threads(port: int, path: str, host: str, cookies: list[str], seconds: float, connections: int,
                _workdir: Path) -> tuple[float, float, int]:
    """The same as :func:`run_wrk` from Python threads (no wrk on this machine)."""
    times: list[float] = []
    errors = [0, 0]  # wrong answers, requests lost on the socket
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(number: int) -> None:
        n = number
        while time.monotonic() < stop_at:
            headers = {"Host": host}
            if cookies:
                headers["Cookie"] = cookies[n % len(cookies)]
            n += 1
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                wrong, lost = response.status >= 400, False
                conn.close()
            except OSError:
                wrong, lost = False, True
            with lock:
                times.append(time.perf_counter() - started)
                errors[0] += wrong
                errors[1] += lost

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000 if times else 0.0
    return len(times) / elapsed, p99, failed_answers(errors[0], errors[1], len(times))


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its children (a gunicorn
    master and its workers), read from /proc; 0.0 where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def postgres_database(base: str) -> tuple[str, str, callable]:
    """A new database on ``base``'s server: (owner URL, the app role's URL, drop)."""
    url = make_url(base)
    name = f"wp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner = url.set(database=name)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    app_url = owner.set(username="waterportal_app", password=None)
    return owner.render_as_string(hide_password=False), app_url.render_as_string(hide_password=False), drop


def write_doc(database: str, rows: list[tuple[str, str, float, float, str, bool]], note: str) -> None:
    """Put today's rows in this script's section of docs/performance.md (made if missing)."""
    day = dt.date.today().isoformat()
    lines = [f"| {day} | {database} | {figure} | {baseline} | {value:.3f} | {p99:.0f} ms | {target} | "
             f"{'yes' if met else 'no'} |" for figure, baseline, value, p99, target, met in rows]
    text_ = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    header = ("| date | database | figure | baseline | ratio | p99 | target | met |\n"
              "|---|---|---|---|---|---|---|---|")
    if SECTION not in text_:
        text_ = text_.rstrip("\n") + f"\n\n{SECTION}\n\n{note}\n\n{header}\n"
    start = text_.index(SECTION)
    end = text_.find("\n## ", start + len(SECTION))
    end = len(text_) if end == -1 else end
    section = text_[start:end].rstrip("\n")
    kept = [line for line in section.splitlines() if not line.startswith(f"| {day} | {database} |")]
    if header.splitlines()[0] not in section:
        kept += ["", header]
    text_ = text_[:start] + "\n".join(kept + lines) + "\n" + text_[end:]
    DOC.write_text(text_, encoding="utf-8")


def measure(plan: dict, server: dict[str, subprocess.Popen], rounds: int, seconds: float
            ) -> tuple[dict[str, list[tuple[float, float, int]]], dict[str, list[float]]]:
    """``rounds`` interleaved rounds of every figure: per figure, each round's (req/s, p99 ms,
    failed answers), and each round's CPU ms per request of the server that answered (what a
    figure costs whatever share of the shared cores it got)."""
    results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in plan}
    cpu: dict[str, list[float]] = {name: [] for name in plan}
    for _ in range(rounds):
        for name, run in plan.items():
            used = tree_cpu(server[name].pid)
            parts = run(seconds)
            used = tree_cpu(server[name].pid) - used
            rate = statistics.mean(p[0] for p in parts)
            results[name].append((rate, max(p[1] for p in parts), sum(p[2] for p in parts)))
            answered = sum(p[0] for p in parts) * seconds / len(parts)
            if used > 0 and answered:
                cpu[name].append(used * 1000 / answered)
    return results, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="run on a new database on this PostgreSQL server")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per figure and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers of each server")
    parser.add_argument("--members", type=int, default=8, help="logged-in members a city, rotated")
    parser.add_argument("--contracts", type=int, default=300, help="demo contracts a city (make demo: 300)")
    parser.add_argument("--months", type=int, default=26)
    parser.add_argument("--threads", action="store_true", help="load from Python threads even if wrk is installed")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args(argv)
    loader = run_threads if args.threads or not shutil.which("wrk") else run_wrk

    workdir = Path(tempfile.mkdtemp(prefix="wp-http-"))
    processes: list[subprocess.Popen] = []
    drop = None
    failed = 0
    try:
        env = {**os.environ, "WATERPORTAL_ENV": "development", "WATERPORTAL_INSTANCE_PATH": str(workdir),
               "PYTHONUNBUFFERED": "1"}
        env.pop("FLASK_SQLALCHEMY_DATABASE_URI", None)
        if args.postgres:
            owner, app_url, drop = postgres_database(args.postgres)
            env["FLASK_SQLALCHEMY_DATABASE_URI"] = owner
            database = "PostgreSQL"
        else:
            app_url = f"sqlite:///{workdir / 'waterportal.sqlite3'}"
            database = "SQLite"
        started = time.monotonic()
        build_demo(workdir, env, args.contracts, args.months)
        subprocess.run([str(BIN / "python"), "-c", ADD_MEMBERS, str(args.members), PASSWORD], cwd=REPO, env=env,
                       check=True)
        print(f"demo database built in {time.monotonic() - started:.1f} s ({database})")
        served = {**env, "FLASK_SQLALCHEMY_DATABASE_URI": app_url, "FLASK_WTF_CSRF_ENABLED": "false",
                  "FLASK_RATELIMIT_ENABLED": "false", "FLASK_MAIL_DELIVERY": '"worker"',
                  "BENCH_DATABASE_URL": app_url}
        portal_port, portal = start_gunicorn(workdir, served, "wsgi:app", args.workers, REPO, "portal")
        select_port, select_ = start_gunicorn(workdir, served, "http_baselines:one_select", args.workers,
                                              REPO / "bench", "one_select")
        hello_port, hello = start_gunicorn(workdir, served, "http_baselines:hello", args.workers, REPO / "bench",
                                           "hello")
        processes = [portal, select_, hello]
        wait_for(portal_port)
        wait_any(select_port)
        wait_any(hello_port)

        cookies: dict[str, list[str]] = {}
        for slug in ("nayoro", "kanazawa"):
            host = f"{slug}.localhost"
            logged = [log_in(portal_port, host, f"bench{i}" if slug == "kanazawa" else f"bench{i}@{slug}.example.jp")
                      for i in range(args.members)]
            cookies[host] = [c for c in logged if c]
            if not cookies[host]:
                print(f"{slug}: no member could log in (outside its service hours?): left out")
        hosts = [host for host, found in cookies.items() if found]
        if not hosts:
            raise SystemExit("no member logged in")
        for host in hosts:  # what the load asks for is the real page, not a redirect or an error
            for cookie in cookies[host]:
                expect(portal_port, "/mypage", host, cookie, "今回の請求金額")
            expect(portal_port, "/pages/about", host, "", "<main")
        expect(select_port, "/", "localhost", "", "1")
        expect(hello_port, "/", "localhost", "", "hello")
        # Each city's dashboard under load in turn, so both cities' members rotate.
        plan = {
            "dashboard": lambda s: [loader(portal_port, "/mypage", h, cookies[h], s / len(hosts), args.connections,
                                           workdir) for h in hosts],
            "one_select": lambda s: [loader(select_port, "/", "localhost", [], s, args.connections, workdir)],
            "about": lambda s: [loader(portal_port, "/pages/about", hosts[0], [], s, args.connections, workdir)],
            "about_member": lambda s: [loader(portal_port, "/pages/about", h, cookies[h], s / len(hosts),
                                              args.connections, workdir) for h in hosts],
            "hello": lambda s: [loader(hello_port, "/", "localhost", [], s, args.connections, workdir)],
        }
        server = {"dashboard": portal, "one_select": select_, "about": portal, "about_member": portal, "hello": hello}
        for name in plan:  # warm-up: every worker has loaded its templates and connections
            plan[name](1)
        results, cpu = measure(plan, server, args.rounds, args.seconds)
        failed = sum(r[2] for rounds in results.values() for r in rounds)
    finally:
        stop(processes)
        if failed:  # what the servers said about it, before their logs go with the folder
            for log in sorted(workdir.glob("*.log")):
                lines = [line for line in log.read_text("utf-8", "replace").splitlines()
                         if any(word in line for word in ("Error", "ERROR", "Traceback", "CRITICAL", "TIMEOUT"))]
                print(f"{log.name}: " + ("\n  ".join(["", *lines[-20:]]) if lines else "no error logged"))
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)

    rate = {name: statistics.median(r[0] for r in rounds) for name, rounds in results.items()}
    p99 = {name: statistics.median(r[1] for r in rounds) for name, rounds in results.items()}
    tool = "Python threads" if loader is run_threads else f"wrk -t2 -c{args.connections}"
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M} {database}, gunicorn -w {args.workers} sync, {tool}, "
          f"{args.rounds} rounds of {args.seconds:g} s, medians:")
    cpu_ms = {name: statistics.median(values) if values else 0.0 for name, values in cpu.items()}
    print(f"{'figure':12s} {'req/s':>9s} {'p99':>9s} {'CPU/req':>9s}")
    for name in plan:
        print(f"{name:12s} {rate[name]:9.1f} {p99[name]:7.1f}ms {cpu_ms[name]:7.2f}ms")
    if all(cpu_ms.values()):
        print(f"CPU per request, baseline/figure: dashboard {cpu_ms['one_select'] / cpu_ms['dashboard']:.3f}, "
              f"about {cpu_ms['hello'] / cpu_ms['about']:.3f}, "
              f"about (logged in) {cpu_ms['hello'] / cpu_ms['about_member']:.3f}")
    dashboard = rate["dashboard"] / rate["one_select"]
    about = rate["about"] / rate["hello"]
    about_member = rate["about_member"] / rate["hello"]
    print(f"dashboard / one_select: {dashboard:.3f} (target >= 0.5, p99 < 25 ms)")
    print(f"about / hello: {about:.3f} (target >= 0.5)")
    print(f"about (logged in) / hello: {about_member:.3f} (target >= 0.5)")
    print(f"failed answers: {failed}")
    if not args.no_doc:
        note = ("Ratios of medians over interleaved rounds, portal and baselines under the same gunicorn in the "
                "same run (the machine is shared: absolute req/s move, ratios much less). Command: "
                "`.venv/bin/python bench/bench_http.py [--postgres URL]`.")
        write_doc(database, [
            ("dashboard req/s", "bare Flask one SELECT", dashboard, p99["dashboard"], ">= 0.5, p99 < 25 ms",
             dashboard >= 0.5 and p99["dashboard"] < 25),
            ("/pages/about req/s", "bare Flask hello", about, p99["about"], ">= 0.5", about >= 0.5),
            ("/pages/about req/s, logged in", "bare Flask hello", about_member, p99["about_member"], ">= 0.5",
             about_member >= 0.5),
        ], note)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
