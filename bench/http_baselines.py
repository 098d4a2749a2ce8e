"""The two baselines of bench/bench_http.py, served by the same gunicorn as the portal.

    gunicorn http_baselines:hello        # bare Flask: "hello"
    gunicorn http_baselines:one_select   # bare Flask doing one SELECT on BENCH_DATABASE_URL

``one_select`` uses a plain SQLAlchemy engine (default pool, no ORM) on the database the
portal uses, so the ratio portal/one_select says what the portal adds around its queries.
"""
from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import create_engine, text

hello = Flask("hello")


@hello.get("/")
def say_hello() -> str:
    return "hello"


one_select = Flask("one_select")
_engine = create_engine(os.environ.get("BENCH_DATABASE_URL", "sqlite://"))


@one_select.get("/")
def select_one() -> str:
    with _engine.connect() as conn:
        return str(conn.execute(text("SELECT 1")).scalar())
