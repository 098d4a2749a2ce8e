"""Settings from the environment reach the real app (``gunicorn wsgi:app``), Flask's way."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Prints what the running app actually uses: the engine's URL, the session signing key,
# and Flask-Mail's own state (not just app.config), so a key that is read too late fails.
PROBE = """
import json, wsgi
from waterportal.extensions import db
app = wsgi.app
with app.app_context():
    state = app.extensions["mail"]
    print(json.dumps({
        "db": str(db.engine.url), "secret": app.secret_key, "env": app.config["ENV_NAME"],
        "mail": [state.server, state.port, state.use_tls, state.default_sender],
        "cookie_secure": app.config["SESSION_COOKIE_SECURE"],
    }))
"""


def _run(tmp_path, **env):
    base = {"PATH": "/usr/bin:/bin", "WATERPORTAL_INSTANCE_PATH": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                          env={**base, **env}, timeout=60)


def test_flask_prefixed_environment_variables_reach_the_app(tmp_path):
    db_file = tmp_path / "from-env.sqlite3"
    out = _run(tmp_path, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}",
               FLASK_SECRET_KEY="k" * 40, FLASK_MAIL_SERVER="smtp.city.example.jp",
               FLASK_MAIL_PORT="2525", FLASK_MAIL_USE_TLS="true",
               FLASK_MAIL_DEFAULT_SENDER="suido@city.example.jp")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["db"] == f"sqlite:///{db_file}"
    assert seen["secret"] == "k" * 40
    # FLASK_MAIL_PORT is parsed as JSON, so Flask-Mail gets an int, and "true" a bool.
    assert seen["mail"] == ["smtp.city.example.jp", 2525, True, "suido@city.example.jp"]
    assert seen["env"] == "development"


def test_defaults_without_environment_are_development_sqlite_and_the_local_catcher(tmp_path):
    out = _run(tmp_path)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["db"].startswith("sqlite:///") and seen["db"].endswith("/waterportal.sqlite3")
    assert seen["db"].startswith(f"sqlite:///{tmp_path}")  # under the instance folder
    assert seen["mail"][:2] == ["127.0.0.1", 8025]  # config/development.toml, `make demo`'s catcher


# Two Fernet keys (newest first) for the staff's and vendor's TOTP secrets: the form an
# operator writes in the environment file during a rotation (docs/operations.md).
TOTP_KEYS = "Y2hhbmdlLW1lLW5ld2VzdC1rZXktMzItYnl0ZXMhISE=,b2xkZXIta2V5LW5vdC15ZXQtcm90YXRlZC1hd2F5ISE="


def test_production_starts_with_a_real_secret_key_from_the_environment(tmp_path):
    out = _run(tmp_path, WATERPORTAL_ENV="production", FLASK_SECRET_KEY="p" * 48,
               FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
               FLASK_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", FLASK_TOTP_ENCRYPTION_KEYS=TOTP_KEYS)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["env"] == "production" and seen["secret"] == "p" * 48
    assert seen["cookie_secure"] is True


def test_production_refuses_per_process_throttle_storage(tmp_path):
    """Issue 9 #3: with memory:// every gunicorn worker counts on its own."""
    for storage in (None, "memory://"):
        extra = {"FLASK_RATELIMIT_STORAGE_URI": storage} if storage else {}
        out = _run(tmp_path, WATERPORTAL_ENV="production", FLASK_SECRET_KEY="p" * 48, **extra)
        assert out.returncode != 0, storage
        assert "FLASK_RATELIMIT_STORAGE_URI=redis://" in out.stderr


def test_production_refuses_a_short_or_development_secret_key(tmp_path):
    for secret in ("short", "dev-only-not-secret-but-long-enough-xxxxxxxx"):
        out = _run(tmp_path, WATERPORTAL_ENV="production", FLASK_SECRET_KEY=secret)
        assert out.returncode != 0, secret
        assert "FLASK_SECRET_KEY" in out.stderr


def test_production_refuses_to_start_without_the_totp_encryption_key(tmp_path):
    """Issue 9 #4: the TOTP secrets are never stored under a guessable key in production."""
    base = {"WATERPORTAL_ENV": "production", "FLASK_SECRET_KEY": "p" * 48,
            "FLASK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    for keys in (None, "", "not-a-fernet-key"):
        out = _run(tmp_path, **base, **({"FLASK_TOTP_ENCRYPTION_KEYS": keys} if keys is not None else {}))
        assert out.returncode != 0, keys
        assert "FLASK_TOTP_ENCRYPTION_KEYS" in out.stderr and "not-a-fernet-key" not in out.stderr


def test_production_refuses_vendor_accounts_without_a_second_factor(tmp_path):
    """Issue 9 #1: development and the demo may switch vendor TOTP off; production may not."""
    out = _run(tmp_path, WATERPORTAL_ENV="production", FLASK_SECRET_KEY="p" * 48,
               FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
               FLASK_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", FLASK_TOTP_ENCRYPTION_KEYS=TOTP_KEYS,
               FLASK_VENDOR_REQUIRE_TOTP="false")
    assert out.returncode != 0
    assert "VENDOR_REQUIRE_TOTP" in out.stderr
