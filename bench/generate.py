"""A national-scale sample: every city of the country on one database, written in bulk.

    .venv/bin/python bench/generate.py postgresql+psycopg://postgres@127.0.0.1:5432/wp_national
    .venv/bin/python bench/generate.py sqlite:////tmp/national.sqlite3 --cities 50 --contracts 2000
    .venv/bin/python bench/generate.py --tenants-dir /tmp/tenants --cities 1741   # folders only

Builds the schema in an empty database as its owner (on PostgreSQL with the row-level
security of the migration, so the app, connecting as ``waterportal_app``, reads it as in
production), then writes:

* ``--cities`` cities (default 1,741, as many as Japan's municipalities), each with its own
  slug, name, hosts (``<slug>.localhost``; every 100th city a second one) and settings made
  from the repository's two cities (every fourth city logs in by login ID, like Kanazawa),
  their effective settings stored as ``tenant apply`` stores them;
* ``--contracts`` contracts (default 200,000: national scale is ~40 million, which does not
  fit this machine; the spread is what matters) shared out like real city sizes: Zipf's law
  over the cities' ranks (a few cities with tens of thousands, a long tail of towns with a
  handful; every city at least one);
* ``--months`` monthly bills per contract (default 24) ending last month;
* ``--members`` of the contracts (default 20%) with a registered member linked to it, every
  one with the password :data:`PASSWORD` (one precomputed argon2 hash shared by all), e-mail
  ``m<contract id>@example.jp`` and login ID ``m<contract id>`` (:func:`member_login`);
* ``--notices`` notices per city (default 6, the newest important).

Rows go in with COPY on PostgreSQL and ``executemany`` on SQLite, ids chosen here (the
database is empty), never through the ORM: 200,000 contracts and 4.8 million bills load in
about a minute. ``--tenants-dir`` writes the cities' tenant.toml folders (the input of
``flask tenant apply --all``) instead of a database.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from waterportal.app import create_app
from waterportal.core.auth.passwords import hash_password
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import apply_definition, read_definition, settings_of
from waterportal.provisioning.toml_writer import dumps
from waterportal.tenancy.registry import effective_record
from waterportal.tenancy.row_security import APP_ROLE, apply_row_security

PASSWORD = "Bench-2026-pass!"  # noqa: S105 - the sample members' shared password
CITIES, CONTRACTS, MONTHS, MEMBERS, NOTICES = 1741, 200_000, 24, 0.2, 6
# The largest cities by population, for the first ranks; the rest are numbered towns.
BIG = ["横浜市", "大阪市", "名古屋市", "札幌市", "福岡市", "川崎市", "神戸市", "京都市", "さいたま市", "広島市",
       "仙台市", "千葉市", "北九州市", "世田谷区", "堺市", "浜松市", "新潟市", "熊本市", "相模原市", "岡山市"]
NOW = dt.datetime(2026, 11, 1, 9, 0)


def city_name(rank: int) -> str:
    """The name of the city of ``rank`` (0 = largest)."""
    return BIG[rank] if rank < len(BIG) else f"第{rank + 1}町"


def city_slug(rank: int) -> str:
    return f"c{rank + 1:04d}"


def city_hosts(rank: int) -> list[str]:
    slug = city_slug(rank)
    return [f"{slug}.localhost"] + ([f"suido.{slug}.example.jp"] if rank % 100 == 0 else [])


def member_login(contract_id: int) -> tuple[str, str]:
    """The e-mail and login ID of the member of contract ``contract_id`` (see ``--members``)."""
    return f"m{contract_id}@example.jp", f"m{contract_id:07d}"


def definitions(cities: int) -> Iterator[dict]:
    """The validated definition of each city, made from the repository's Nayoro (e-mail login)
    and, for every fourth city, Kanazawa (login ID)."""
    templates = [read_definition(TENANTS_DIR / slug) for slug in ("nayoro", "kanazawa")]
    for rank in range(cities):
        base = templates[1 if rank % 4 == 3 else 0]
        name = city_name(rank)
        definition = json.loads(json.dumps(base))  # a deep copy
        definition.update(slug=city_slug(rank), name=name, portal_name=f"{name} 水道料金お客さまページ",
                          hosts=city_hosts(rank), enabled=True)
        definition["mail"]["sender_name"] = f"{name} 上下水道局"
        definition["contact"]["inquiry_email"] = f"suido@{city_slug(rank)}.example.jp"
        # Open all day: the benchmarks measure what a request costs, and run on the real
        # clock, when Kanazawa's hours (07:00-02:00 JST) would close its copies at night.
        definition["service_hours"] = None
        yield definition


def write_tenant_dirs(parent: Path, cities: int) -> list[Path]:
    """Write ``parent/<slug>/tenant.toml`` for ``cities`` cities; return the folders."""
    folders = []
    for definition in definitions(cities):
        folder = Path(parent) / definition["slug"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tenant.toml").write_text(dumps(definition, header="bench/generate.py"), encoding="utf-8")
        folders.append(folder)
    return folders


def city_sizes(cities: int, contracts: int) -> list[int]:
    """Contracts per city by rank: Zipf's law (share ~ 1/rank), each city at least one."""
    if contracts < cities:
        raise SystemExit(f"--contracts ({contracts}) must be at least --cities ({cities})")
    weights = [1 / (rank + 1) for rank in range(cities)]
    spare = contracts - cities
    sizes = [1 + int(spare * w / sum(weights)) for w in weights]
    sizes[0] += contracts - sum(sizes)  # rounding goes to the largest city
    return sizes


def months_ending(last: dt.date, count: int) -> list[dt.date]:
    """The first days of ``count`` months up to and including ``last``'s month."""
    year, month = last.year, last.month
    out = []
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


# ---- bulk writing -----------------------------------------------------------------------

def bulk(conn: Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Write ``rows`` into ``table``: COPY on PostgreSQL, executemany on SQLite. Returns the count."""
    raw = conn.connection.dbapi_connection
    count = 0
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    cursor = raw.cursor()
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            cursor.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    cursor.executemany(sql, batch)
    cursor.close()
    return count + len(batch)


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.000000")


def _tenant_rows(cities: int) -> tuple[list[tuple], list[tuple]]:
    tenants, hosts = [], []
    stamp = _ts(NOW)
    host_id = 0
    for rank, definition in enumerate(definitions(cities)):
        settings = settings_of(definition)
        effective = effective_record(definition["slug"], settings, {})
        tenants.append((rank + 1, definition["slug"], definition["name"], definition["portal_name"],
                        json.dumps(settings, ensure_ascii=False), "{}", json.dumps(effective, ensure_ascii=False),
                        1, True, stamp, stamp))
        for index, host in enumerate(definition["hosts"]):
            host_id += 1
            hosts.append((host_id, rank + 1, host, index == 0))
    return tenants, hosts


def _contracts(sizes: list[int], seed: int) -> Iterator[tuple]:
    rnd = random.Random(seed)
    stamp = _ts(NOW)
    contract_id = 0
    for rank, size in enumerate(sizes):
        for number in range(1, size + 1):
            contract_id += 1
            yield (contract_id, rank + 1, f"{number:011d}", f"利用者 {contract_id}", "リヨウシャ", "0120000000",
                   f"{city_name(rank)}中央{rnd.randrange(1, 40)}丁目{rnd.randrange(1, 30)}番", f"M{contract_id:08d}",
                   rnd.choice((13, 13, 13, 20, 25)), stamp, stamp)


def _bills(sizes: list[int], months: list[dt.date], seed: int) -> Iterator[tuple]:
    rnd = random.Random(seed)
    stamp = _ts(NOW)
    # Per month: billing month, period start/end, reading date, due date (strings once).
    spans = []
    for first in months:
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
        spans.append((first.strftime("%Y-%m"), first.isoformat(), end.isoformat(), end.isoformat(),
                      (nxt + dt.timedelta(days=24)).isoformat(), (nxt + dt.timedelta(days=20)).isoformat()))
    bill_id = contract_id = 0
    for rank, size in enumerate(sizes):
        for _ in range(size):
            contract_id += 1
            reading = rnd.randrange(5000)
            for index, (month, start, end, read_on, due, paid) in enumerate(spans):
                usage = rnd.randrange(5, 40)
                water = 800 + usage * 180
                sewer = 600 + usage * 120
                total = water + sewer
                bill_id += 1
                yield (bill_id, rank + 1, contract_id, month, start, end, read_on, reading, reading + usage, usage,
                       False, water, sewer, total // 11, total, due, None if index == len(spans) - 1 else paid,
                       stamp, stamp)
                reading += usage


def _members(sizes: list[int], share: float, password_hash: str, seed: int) -> tuple[list[tuple], list[tuple]]:
    rnd = random.Random(seed)
    stamp = _ts(NOW)
    members, links = [], []
    contract_id = 0
    for rank, size in enumerate(sizes):
        for index in range(size):
            contract_id += 1
            # Every city gets its first contract's member, so each has one to log in as.
            if index and rnd.random() >= share:
                continue
            email, login_id = member_login(contract_id)
            members.append((contract_id, rank + 1, email, login_id, f"会員{contract_id}", password_hash, "self",
                            "none", True, True, True, 1, "2020-01-01", stamp))
            links.append((contract_id, rank + 1, contract_id, contract_id, "", stamp))
    return members, links


def _notices(cities: int, per_city: int) -> Iterator[tuple]:
    notice_id = 0
    for rank in range(cities):
        for index in range(per_city):
            notice_id += 1
            published = _ts(NOW - dt.timedelta(days=30 * (per_city - index)))
            yield (notice_id, rank + 1, f"お知らせ {index + 1}", f"{city_name(rank)}からのお知らせです。",
                   index == per_city - 1, published, None, False, None, published, published)


TABLES = {
    "tenants": ("id", "slug", "name", "portal_name", "settings", "overrides", "effective", "version", "enabled",
                "created_at", "updated_at"),
    "tenant_hosts": ("id", "tenant_id", "host", "is_primary"),
    "contracts": ("id", "tenant_id", "customer_number", "holder_name", "holder_name_kana", "phone", "address",
                  "meter_number", "meter_diameter_mm", "created_at", "data_updated_at"),
    "bills": ("id", "tenant_id", "contract_id", "billing_month", "period_start", "period_end", "reading_date",
              "previous_reading", "current_reading", "usage_m3", "meter_exchanged", "water_charge", "sewer_charge",
              "tax", "total", "due_date", "paid_on", "updated_at", "bill_notified_at"),
    "members": ("id", "tenant_id", "email", "login_id", "nickname", "password_hash", "relationship_to_holder",
                "payment_method", "notify_bills", "notify_notices", "notify_leak", "session_version", "data_visible_from",
                "created_at"),
    "member_contracts": ("id", "tenant_id", "member_id", "contract_id", "label", "created_at"),
    "notices": ("id", "tenant_id", "title", "body", "important", "published_at", "expires_at", "mail_members",
                "mailed_at", "created_at", "updated_at"),
}


def app_url(url: str) -> str:
    """The URL the app reads the generated database with: on PostgreSQL the non-owner role
    behind row-level security (as production), on SQLite the same file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def owner_app(url: str):
    """The app on ``url`` as the database's owner (schema and bulk writes)."""
    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR)})


def build_schema(app) -> None:
    """Create every table in the app's empty database, with the row security of the migration."""
    with app.app_context():
        if db.inspect(db.engine).has_table("tenants"):
            raise SystemExit(f"{db.engine.url.render_as_string()} is not empty: give an empty database")
        db.create_all()
        with db.engine.begin() as conn:
            apply_row_security(conn)


def nayoro_database(url: str):
    """Build the schema in the empty database at ``url`` (as its owner) with Nayoro applied;
    return the owner's app (ANALYZE and other owner work after a bulk load)."""
    owner = owner_app(url)
    build_schema(owner)
    with owner.app_context():
        apply_definition(read_definition(TENANTS_DIR / "nayoro"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return owner


def generate(url: str, cities: int = CITIES, contracts: int = CONTRACTS, months: int = MONTHS,
             members: float = MEMBERS, notices: int = NOTICES, seed: int = 1, quiet: bool = False,
             sizes: list[int] | None = None) -> dict:
    """Build the schema in the empty database at ``url`` (as its owner) and fill it.
    ``sizes`` (contracts per city) replaces the Zipf spread. Returns the rows written per
    table, the seconds taken and the city sizes."""
    say = (lambda *_: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    started = time.perf_counter()
    app = owner_app(url)
    sizes = sizes or city_sizes(cities, contracts)
    cities = len(sizes)
    last = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    counts: dict = {}
    build_schema(app)
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        member_rows, link_rows = _members(sizes, members, password_hash, seed + 2)
        tenant_rows, host_rows = _tenant_rows(cities)
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql" and conn.execute(text("SELECT rolsuper FROM pg_roles "
                                                                      "WHERE rolname = current_user")).scalar():
                # The rows are consistent by construction: skip the per-row foreign key
                # triggers (a superuser's bulk-load switch; ends with the transaction).
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            parts = [
                ("tenants", tenant_rows), ("tenant_hosts", host_rows), ("contracts", _contracts(sizes, seed)),
                ("bills", _bills(sizes, months_ending(last, months), seed + 1)), ("members", member_rows),
                ("member_contracts", link_rows), ("notices", _notices(cities, notices)),
            ]
            for table, rows in parts:
                t0 = time.perf_counter()
                counts[table] = bulk(conn, table, TABLES[table], rows)
                say(f"  {table}: {counts[table]:,} rows in {time.perf_counter() - t0:.1f} s")
            if conn.dialect.name == "postgresql":
                for table in TABLES:  # ids were chosen here: move each sequence past them
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                      f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        db.engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["sizes"] = sizes
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="an empty database (SQLAlchemy URL), as its owner")
    parser.add_argument("--cities", type=int, default=CITIES)
    parser.add_argument("--contracts", type=int, default=CONTRACTS, help="total over all cities")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply --contracts (0.01 for a quick look; national scale would be 200)")
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--members", type=float, default=MEMBERS, help="share of contracts with a member")
    parser.add_argument("--notices", type=int, default=NOTICES, help="notices per city")
    parser.add_argument("--tenants-dir", type=Path, help="write the cities' tenant.toml folders here instead")
    args = parser.parse_args(argv)
    if args.tenants_dir:
        folders = write_tenant_dirs(args.tenants_dir, args.cities)
        print(f"wrote {len(folders)} city folders under {args.tenants_dir}")
        return
    if not args.url:
        parser.error("give a database URL or --tenants-dir")
    contracts = max(args.cities, int(args.contracts * args.scale))
    counts = generate(args.url, args.cities, contracts, args.months, args.members, args.notices)
    sizes = counts.pop("sizes")
    print(json.dumps({**counts, "largest_city": sizes[0], "smallest_city": sizes[-1]}))
    print(f"app URL: {app_url(args.url)}  members' password: {PASSWORD}")


if __name__ == "__main__":
    main()
