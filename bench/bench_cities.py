"""What grows with the number of cities: 1,741 cities against 2, in the same run.

    .venv/bin/python bench/bench_cities.py                      # SQLite files, 1,741 cities
    .venv/bin/python bench/bench_cities.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_cities.py --smoke               # toy size (tests/test_bench_cities.py)

Generates two databases with bench/generate.py: the national one (``--cities``, contracts
spread like real city sizes) and a pair (2 cities, the same sizes as the national's two
largest), then measures in fresh processes, each figure beside its baseline:

* ``flask tenant list`` (the command's own time, in process) at N cities / at 2;
* onboarding: ``flask tenant apply --all`` of N generated tenant folders into an empty
  database in one process, against one process per city (the old way, timed on 3 cities);
* the first request of a new worker process (app created, then ``GET /login`` of one city)
  at N cities / at 2;
* the worker's RSS after serving 200 city hosts at N cities, minus the same after 2 hosts
  at 2 cities;
* the member dashboard (logged-in member of the second city, median of 3 interleaved
  rounds) at N cities / at 2.

On PostgreSQL the databases are built by the owner and read by ``waterportal_app``, behind
row-level security. Results: printed, and the dated table in docs/performance.md
(section "Cities"), unless ``--doc ''``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import doc_tables
from generate import PASSWORD, app_url, build_schema, city_hosts, generate, member_login, owner_app, write_tenant_dirs
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from waterportal.app import create_app
from waterportal.core.paths import TENANTS_DIR

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"


# ---- probes: each runs in a fresh process (python bench/bench_cities.py --probe NAME URL ...)

def _app(url: str):
    return create_app({
        "ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR),
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MAIL_DELIVERY": "worker",
    })


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(name: str, url: str, arg: str) -> dict:
    """One measurement in this (fresh) process; returns a JSON-able dict."""
    app = _app(url)
    client = app.test_client()
    if name == "first":
        host = arg
        start = time.perf_counter()
        assert client.get("/login", base_url=f"http://{host}").status_code == 200
        first = time.perf_counter() - start
        start = time.perf_counter()
        assert client.get("/login", base_url=f"http://{host}").status_code == 200
        return {"first": first, "second": time.perf_counter() - start}
    if name == "rss":
        hosts = arg.split(",")
        assert client.get("/login", base_url=f"http://{hosts[0]}").status_code == 200
        before = _rss_mb()
        for host in hosts:
            assert client.get("/login", base_url=f"http://{host}").status_code == 200, host
        return {"rss": _rss_mb(), "before": before, "hosts": len(hosts)}
    if name == "list":
        runner = app.test_cli_runner()
        with app.app_context():  # as the flask command runs it
            runner.invoke(args=["tenant", "list"])  # warm: imports, connection
            times = []
            for _ in range(3):
                start = time.perf_counter()
                result = runner.invoke(args=["tenant", "list"])
                times.append(time.perf_counter() - start)
                assert result.exit_code == 0, result.output
        return {"seconds": min(times), "lines": len(result.output.splitlines())}
    if name == "dashboard":
        host, identifier, requests = arg.split(",")
        base = f"http://{host}"
        response = client.post("/login", data={"identifier": identifier, "password": PASSWORD}, base_url=base)
        assert response.status_code == 302, response.status_code
        for _ in range(10):
            assert client.get("/mypage", base_url=base).status_code == 200
        times = []
        for _ in range(int(requests)):
            start = time.perf_counter()
            assert client.get("/mypage", base_url=base).status_code == 200
            times.append(time.perf_counter() - start)
        return {"median": statistics.median(times)}
    raise SystemExit(f"unknown probe {name}")


def run_probe(name: str, url: str, arg: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--probe", name, url, arg],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"probe {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- databases ----------------------------------------------------------------------------

@contextmanager
def databases(postgres: str | None, workdir: Path, names: list[str]):
    """Empty databases (owner URLs) for ``names``: SQLite files, or new PostgreSQL databases dropped after."""
    if not postgres:
        yield {name: f"sqlite:///{workdir / (name + '.sqlite3')}" for name in names}
        return
    base = make_url(postgres)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created = {name: f"wp_cities_{name}_{uuid.uuid4().hex[:6]}" for name in names}
    with admin.connect() as conn:
        for db_name in created.values():
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield {name: base.set(database=db_name).render_as_string(hide_password=False)
               for name, db_name in created.items()}
    finally:
        with admin.connect() as conn:
            for db_name in created.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": app_url(url), "WATERPORTAL_ENV": "development"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)


def onboarding(url: str, cities: int, workdir: Path, singles_count: int = 3) -> tuple[float, float]:
    """(seconds for ``tenant apply --all`` of ``cities`` folders, seconds per city one process each,
    timed on the first ``singles_count``)."""
    build_schema(owner_app(url))
    folders = write_tenant_dirs(workdir / "tenants", cities)
    singles = []
    for folder in folders[:singles_count]:  # the old way: one process per city
        start = time.perf_counter()
        done = flask(url, "tenant", "apply", str(folder))
        singles.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
    start = time.perf_counter()
    done = flask(url, "tenant", "apply", "--all", str(workdir / "tenants"))
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{cities} cities, {cities} applied, 0 refused" in done.stdout, done.stdout[-500:]
    return seconds, statistics.median(singles)


# ---- the run --------------------------------------------------------------------------------

def run(args) -> list[tuple[str, str, str, str, str, bool]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            databases(args.postgres, Path(tmp), ["national", "pair", "onboard"]) as urls:
        workdir = Path(tmp)
        national = generate(urls["national"], args.cities, args.contracts, args.months, quiet=True)
        sizes = national["sizes"]
        generate(urls["pair"], sizes=sizes[:2], months=args.months, quiet=True)
        print(f"generated {args.cities} cities, {national['contracts']:,} contracts, {national['bills']:,} bills "
              f"in {national['seconds']} s (+ the 2-city pair)", flush=True)
        n_url, p_url = app_url(urls["national"]), app_url(urls["pair"])

        n_list, p_list = run_probe("list", n_url, ""), run_probe("list", p_url, "")
        assert n_list["lines"] == args.cities
        rows.append(("`flask tenant list`", f"{n_list['seconds'] * 1000:.0f} ms", f"{p_list['seconds'] * 1000:.0f} ms",
                     f"{n_list['seconds'] / p_list['seconds']:.2f}", "< 500 ms", n_list["seconds"] < 0.5))

        apply_all, per_city = onboarding(urls["onboard"], args.cities, workdir, 1 if args.smoke else 3)
        rows.append((f"onboarding {args.cities} cities (`tenant apply --all`)", f"{apply_all:.1f} s",
                     f"{per_city:.2f} s a city, one process each", f"{per_city * args.cities / apply_all:.0f}x faster",
                     "< 60 s for 1,741", apply_all * 1741 / args.cities < 60))

        host = city_hosts(0)[0]
        firsts = {"n": [], "p": []}
        for round_ in range(args.rounds):  # interleaved ABBA: the machine's noise hits both alike
            for key in ("n", "p") if round_ % 2 == 0 else ("p", "n"):
                firsts[key].append(run_probe("first", n_url if key == "n" else p_url, host)["first"])
        n_first, p_first = statistics.median(firsts["n"]), statistics.median(firsts["p"])
        rows.append(("first request of a new worker", f"{n_first * 1000:.0f} ms", f"{p_first * 1000:.0f} ms",
                     f"{n_first / p_first:.2f}", "< 300 ms", n_first < 0.3))

        count = min(200, args.cities)
        n_hosts = ",".join(city_hosts(rank)[0] for rank in range(count))
        p_hosts = ",".join(city_hosts(rank % 2)[0] for rank in range(count))
        n_rss, p_rss = run_probe("rss", n_url, n_hosts), run_probe("rss", p_url, p_hosts)
        delta = n_rss["rss"] - p_rss["rss"]
        rows.append((f"worker RSS after {count} city hosts", f"{n_rss['rss']:.0f} MB", f"{p_rss['rss']:.0f} MB (2 cities)",
                     f"{delta:+.1f} MB", "< +10 MB", delta < 10))

        email, _ = member_login(sizes[0] + 1)  # the first contract of the second city
        dash = {"n": [], "p": []}
        for round_ in range(args.rounds):  # ABBA: neither side always runs first
            for key in ("n", "p") if round_ % 2 == 0 else ("p", "n"):
                url = n_url if key == "n" else p_url
                dash[key].append(run_probe("dashboard", url, f"{city_hosts(1)[0]},{email},{args.requests}")["median"])
        n_dash, p_dash = statistics.median(dash["n"]), statistics.median(dash["p"])
        rows.append(("dashboard req/s, N cities / 2", f"{n_dash * 1000:.2f} ms", f"{p_dash * 1000:.2f} ms",
                     f"{p_dash / n_dash:.3f}", ">= 0.98", p_dash / n_dash >= 0.98))
    return rows


def table(rows, args) -> str:
    return doc_tables.table("bench/bench_cities.py", f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.cities} cities, "
                            f"{args.contracts:,} contracts, {args.months} months", rows)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        print(json.dumps(probe(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (owner URL); SQLite files otherwise")
    parser.add_argument("--cities", type=int, default=1741)
    parser.add_argument("--contracts", type=int, default=20_000, help="total, spread like real city sizes")
    parser.add_argument("--months", type=int, default=3, help="bills per contract")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="dashboard requests per round")
    parser.add_argument("--smoke", action="store_true", help="toy size: 12 cities, no doc")
    parser.add_argument("--doc", default=str(DOC), help="file to write the table into ('' = none)")
    args = parser.parse_args()
    if args.smoke:
        args.cities, args.contracts, args.months, args.rounds, args.requests = 12, 60, 2, 1, 5
        if args.doc == str(DOC):
            args.doc = ""
    rows = run(args)
    body = table(rows, args)
    print(body)
    if args.doc:
        doc_tables.write_block(Path(args.doc), "bench_cities", "Cities", "postgresql" if args.postgres else "sqlite", body)
        print(f"written to {args.doc}")


if __name__ == "__main__":
    main()
