"""The application factory."""
from __future__ import annotations

import importlib
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

import waterportal.accounts.session  # noqa: F401 - registers the user loader
import waterportal.models  # noqa: F401 - registers every table
from waterportal.accounts.blueprint import accounts
from waterportal.accounts.language import language_for_address
from waterportal.accounts.registration.blueprint import registration
from waterportal.admin.blueprint import admin
from waterportal.admin.cli import staff_cli
from waterportal.admin.procedures_cli import procedures_cli
from waterportal.billing.blueprint import simulator
from waterportal.billing.queries import latest_billing_month
from waterportal.core.auth import secret_box
from waterportal.core.database import RetryBusyReads, configure_engine
from waterportal.core.errors import register_errors
from waterportal.core.i18n import DEFAULT_LANGUAGE, install_i18n
from waterportal.core.ids import DatabaseBigInt, DatabaseInt
from waterportal.core.paths import CONFIG_DIR, REPO_ROOT, TENANTS_DIR, THEMES_DIR
from waterportal.demo.cli import demo_cli
from waterportal.extensions import csrf, db, login_manager, mail, migrate
from waterportal.imports.cli import import_cli
from waterportal.inquiries.blueprint import inquiry
from waterportal.mail.cli import outbox_cli
from waterportal.mail.delivery import init_delivery as init_mail_delivery
from waterportal.mail.services import install_recipient_language
from waterportal.mypage.account.blueprint import profile
from waterportal.mypage.usage.blueprint import portal
from waterportal.notices.blueprint import pages
from waterportal.notices.cli import notices_cli
from waterportal.pipeline import register_request_pipeline
from waterportal.procedures.blueprint import procedures
from waterportal.procedures.paperless_state import BILL_MONTHS
from waterportal.provisioning.cli import tenant_cli
from waterportal.provisioning.keys_cli import keys_cli
from waterportal.readings.cli import readings_cli
from waterportal.tenancy.blueprint import health, theme_assets
from waterportal.tenancy.context import current_tenant_or_none
from waterportal.tenancy.isolation import install_isolation
from waterportal.tenancy.registry import TenantRegistry
from waterportal.tenancy.row_security import install_row_security
from waterportal.tenancy.templating import register_templating, render_page
from waterportal.tenancy.words import customer_number_wording
from waterportal.vendor_console.blueprint import vendor
from waterportal.vendor_console.cli import vendor_cli


class ConfigError(RuntimeError):
    """The deployment's configuration is unusable (e.g. production without SECRET_KEY)."""


# Platform settings that must be whole numbers >= 1 (checked once, when the app starts).
WHOLE_NUMBERS = ("MAIL_RETENTION_DAYS", "MAIL_JOB_MAX_ATTEMPTS", "MAIL_JOB_RETRY_BASE_SECONDS")


def load_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Layer the settings: config/default.toml, config/<env>.toml, FLASK_* env vars, ``config``.

    When a test passes ``config`` the environment is not read at all, so nothing reaches
    a test behind its back. ``config`` may name ``ENV`` to pick the config/ file.
    """
    env = (config or {}).get("ENV") or (None if config is not None else os.environ.get("WATERPORTAL_ENV"))
    env = env or "development"
    app.config.from_file(str(CONFIG_DIR / "default.toml"), load=tomllib.load, text=False)
    env_file = CONFIG_DIR / f"{env}.toml"
    if env_file.is_file():
        app.config.from_file(str(env_file), load=tomllib.load, text=False)
    app.config["ENV_NAME"] = env
    app.config.setdefault("TENANTS_DIR", str(TENANTS_DIR))
    app.config.setdefault("THEMES_DIR", str(THEMES_DIR))
    if config is None:
        app.config.from_prefixed_env()
    else:
        app.config.update(config)
    if not app.config.get("WTF_CSRF_TIME_LIMIT"):
        app.config["WTF_CSRF_TIME_LIMIT"] = None  # Flask-WTF: valid for the session's life
    for key in WHOLE_NUMBERS:
        value = app.config.get(key)
        # bool is an int; FLASK_* env values arrive parsed as JSON ("90" -> 90).
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a whole number of at least 1, not {value!r}")
    if env == "production":
        secret = app.config.get("SECRET_KEY") or ""
        if len(secret) < 32 or secret.startswith("dev-"):
            raise ConfigError("production needs FLASK_SECRET_KEY: a random value of 32+ characters")
        if str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
            # memory:// counts per worker process: with -w 4 every limit is four times as
            # high and a restart forgets them all.
            raise ConfigError(
                "production needs shared throttle storage: set FLASK_RATELIMIT_STORAGE_URI=redis://HOST:6379/0 "
                "and install the redis extra (pip install '.[redis]')"
            )
        if not app.config.get("VENDOR_REQUIRE_TOTP"):
            # The vendor opens every city's console: without a second factor one stolen
            # password is every city's admin (issue 9 #1).
            raise ConfigError("production needs VENDOR_REQUIRE_TOTP: unset FLASK_VENDOR_REQUIRE_TOTP=false")
        if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
            logging.getLogger("waterportal").warning("production is running on SQLite")
    try:
        # The TOTP secrets' key ring: production names its keys, elsewhere one is derived.
        secret_box.init_app(app, required=env == "production")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the tenant isolation hooks."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    mail.init_app(app)
    init_mail_delivery(app)
    csrf.init_app(app)
    install_isolation(Session)
    with app.app_context():
        configure_engine(db.engine)  # SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writers
    with app.app_context():
        install_row_security(db.engine)  # PostgreSQL: app.tenant_id per transaction (no-op on SQLite)
    app.extensions["waterportal.tenants"] = TenantRegistry(app.config["TENANT_REFRESH_SECONDS"])


# Every module that attaches routes to a blueprint. Importing one is what adds its routes, so
# they are all listed here and no view module imports a sibling to get it loaded. Each
# blueprint object lives in its package's blueprint.py.
VIEW_MODULES = (
    "waterportal.tenancy.views",  # health, theme_assets
    "waterportal.tenancy.icons",  # theme_assets: favicon, app icons, web app manifest
    "waterportal.notices.views",  # pages
    "waterportal.accounts.views",  # accounts
    "waterportal.accounts.language_views",  # accounts: the language switch
    "waterportal.accounts.recovery.views",  # accounts
    "waterportal.accounts.registration.views",  # registration
    "waterportal.mypage.usage.views",  # portal
    "waterportal.mypage.usage.payment_views",  # portal: 収納済証明書, payment details
    "waterportal.mypage.usage.history_views",  # portal: 使用量・請求の履歴 CSV (issue 14 §5)
    "waterportal.mypage.usage.leak_views",  # portal: the 漏水の可能性 notice (issue 14 §1)
    "waterportal.mypage.usage.alert_views",  # portal: 地区別のお知らせ (issue 14 §4)
    "waterportal.mypage.account.views",  # profile
    "waterportal.mypage.account.contract_views",  # profile
    "waterportal.mypage.account.watch_views",  # profile: 見守り (issue 14 §6)
    "waterportal.inquiries.views",  # inquiry
    "waterportal.billing.simulator_views",  # simulator: 料金シミュレーション
    "waterportal.procedures.views",  # procedures
    "waterportal.procedures.bank_views",  # procedures
    "waterportal.admin.views",  # admin
    "waterportal.admin.login_views",
    "waterportal.admin.vendor_login",
    "waterportal.admin.audit_views",
    "waterportal.admin.imports_views",
    "waterportal.admin.inquiries_views",
    "waterportal.admin.procedures_views",
    "waterportal.admin.procedure_debit_views",
    "waterportal.admin.notices_views",
    "waterportal.admin.alerts_views",  # 地区別のお知らせ (issue 14 §4)
    "waterportal.admin.members.views",
    "waterportal.admin.settings.views",
    "waterportal.admin.staff.views",
    "waterportal.vendor_console.views",  # vendor
    "waterportal.vendor_console.mail_views",
)


def _city_languages() -> list[str]:
    """The current city's languages (tenant.toml [languages] offered); Japanese without a city."""
    tenant = current_tenant_or_none()
    return tenant.settings["languages"]["offered"] if tenant else [DEFAULT_LANGUAGE]


def _city_date_style() -> str:
    """The current city's 西暦/和暦 ([invoice] date_style): "seireki" without a city."""
    tenant = current_tenant_or_none()
    return tenant.settings["invoice"].get("date_style", "seireki") if tenant else "seireki"


def _city_wording() -> tuple[tuple[str, str], ...]:
    """The current city's own words written into the portal's texts (tenancy/words.py)."""
    tenant = current_tenant_or_none()
    return customer_number_wording(tenant.settings) if tenant else ()


def register_blueprints(app: Flask) -> None:
    """Load every view module, then register one blueprint per feature (ids in URLs are
    bounded by their column: ``<int:...>`` 32-bit, ``<bigint:...>`` 64-bit, core/ids.py)."""
    app.url_map.converters["int"] = DatabaseInt
    app.url_map.converters["bigint"] = DatabaseBigInt
    for module in VIEW_MODULES:
        importlib.import_module(module)
    for blueprint in (
        health, theme_assets, pages, accounts, registration, admin, portal, profile, inquiry, procedures, vendor,
        simulator,
    ):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    """``flask tenant ...`` and ``flask import ...``."""
    app.cli.add_command(tenant_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(notices_cli)
    app.cli.add_command(vendor_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(procedures_cli)
    app.cli.add_command(readings_cli)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` (tests) overrides everything and disables env lookup."""
    instance = os.environ.get("WATERPORTAL_INSTANCE_PATH") if config is None else None
    app = Flask(
        "waterportal",
        instance_path=instance or str(REPO_ROOT / "instance"),
        static_folder=None,
        template_folder="templates",
    )
    load_config(app, config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("PROXY_FIX_X_FOR") or app.config.get("PROXY_FIX_X_PROTO"):
        # x_host stays 0: the city is chosen by the Host header the proxy forwards as is.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=app.config["PROXY_FIX_X_PROTO"], x_host=0
        )
    # A page view that met a busy SQLite file runs again instead of failing (core/database.py).
    app.wsgi_app = RetryBusyReads(app.wsgi_app)  # type: ignore[method-assign]
    register_extensions(app)
    register_templating(app)
    register_request_pipeline(app)
    register_blueprints(app)
    # Citizen languages (core/i18n.py): the city's [languages] offered; a member's mail in theirs.
    # After the blueprints, so the language-aware ymd filter is the one templates get.
    install_i18n(app, offered=_city_languages, japanese_only=(admin.name, vendor.name), date_style=_city_date_style,
                 wording=_city_wording)
    install_recipient_language(language_for_address)
    # 検針票 paperless (procedures) applies from a contract's next bill (billing): features do
    # not import each other, so the composition root hands the lookup over.
    app.extensions[BILL_MONTHS] = latest_billing_month
    register_errors(app, city_page=render_page, current_city=current_tenant_or_none)
    register_cli(app)
    return app
