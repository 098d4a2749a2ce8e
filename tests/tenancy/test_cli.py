"""Vendor CLI: flask tenant apply / create / list."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from waterportal.audit.models import AuditEntry
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import context_for


@pytest.fixture
def tenants_dir(app, tmp_path):
    """A private tenants/ folder so scaffolding never touches the repository."""
    original = app.config["TENANTS_DIR"]
    app.config["TENANTS_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["TENANTS_DIR"] = original


def test_apply_is_idempotent(runner, app_ctx):
    result = runner.invoke(args=["tenant", "apply", str(TENANTS_DIR / "nayoro")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "unchanged nayoro (version 1)"


def test_apply_prints_what_changed_and_bumps_version(runner, app_ctx, tmp_path):
    city = tmp_path / "nayoro"
    shutil.copytree(TENANTS_DIR / "nayoro", city)
    toml = city / "tenant.toml"
    text = toml.read_text(encoding="utf-8").replace("code_ttl_minutes = 30", "code_ttl_minutes = 15")
    text = text.replace('hosts = ["nayoro.localhost"]', 'hosts = ["nayoro.localhost", "suido.city.nayoro.example"]')
    toml.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["tenant", "apply", str(city)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "updated nayoro (version 2): hosts, registration.code_ttl_minutes"
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "nayoro"))
    assert tenant.settings["registration"]["code_ttl_minutes"] == 15
    assert [h.host for h in tenant.hosts] == ["nayoro.localhost", "suido.city.nayoro.example"]
    assert tenant.primary_host == "nayoro.localhost"
    with tenant_context(context_for(tenant)):
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "tenant.apply"
    assert entry.detail["changes"] == ["hosts", "registration.code_ttl_minutes"]


def test_apply_refuses_a_bad_file_with_key_and_reason(runner, app_ctx, tmp_path):
    city = tmp_path / "nayoro"
    shutil.copytree(TENANTS_DIR / "nayoro", city)
    toml = city / "tenant.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("min_length = 8", "min_length = 4"), encoding="utf-8")
    result = runner.invoke(args=["tenant", "apply", str(city)])
    assert result.exit_code == 1
    assert "refused:" in result.output
    assert "password_policy.min_length: プラットフォームの下限 8 文字より短くできません" in result.output
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "nayoro"))
    assert tenant.version == 1


def test_apply_refuses_a_host_of_another_city(runner, app_ctx, tmp_path):
    city = tmp_path / "nayoro"
    shutil.copytree(TENANTS_DIR / "nayoro", city)
    toml = city / "tenant.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"nayoro.localhost"]', '"nayoro.localhost", "kanazawa.localhost"]'),
        encoding="utf-8",
    )
    result = runner.invoke(args=["tenant", "apply", str(city)])
    assert result.exit_code == 1
    assert "kanazawa.localhost" in result.output


def test_create_scaffolds_and_applies_a_new_city(runner, app_ctx, tenants_dir, client_for):
    result = runner.invoke(args=["tenant", "create", "asahikawa", "--name", "旭川市", "--host", "Asahikawa.Localhost"])
    assert result.exit_code == 0, result.output
    assert "scaffolded" in result.output and "created asahikawa" in result.output
    assert (tenants_dir / "asahikawa" / "tenant.toml").is_file()
    created = db.session.scalar(select(Tenant).where(Tenant.slug == "asahikawa"))
    assert created.settings["password_policy"]["allowed_symbols"] == "!?#$&()-_"
    assert created.settings["mail"]["sender_address"] == "noreply@asahikawa.localhost"
    listing = runner.invoke(args=["tenant", "list"]).output
    assert "asahikawa\t旭川市\tasahikawa.localhost\temail\tv1\tenabled" in listing
    page = client_for("asahikawa.localhost").get("/pages/about")
    assert page.status_code == 200
    assert "旭川市上下水道ポータル" in page.get_data(as_text=True)
    # The new city serves its login page at once, with the manuals' wording (email login).
    login = client_for("asahikawa.localhost").get("/login")
    assert login.status_code == 200
    html = login.get_data(as_text=True)
    assert "<title>ログイン | 旭川市上下水道ポータル</title>" in html
    for words in ('<label for="identifier" class="required">メールアドレス</label>',
                  '<label for="password" class="required">パスワード</label>',
                  '<button type="submit">ログイン</button>', "初めての方はこちら"):
        assert words in html


@pytest.mark.parametrize(
    "args, message",
    [
        (["Bad Slug", "--name", "x", "--host", "x.localhost"], "SLUG"),
        (["okslug", "--name", "x", "--host", "bad host"], "--host"),
    ],
)
def test_create_refuses_bad_arguments(runner, tenants_dir, args, message):
    result = runner.invoke(args=["tenant", "create", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_create_refuses_an_existing_folder(runner, app_ctx, tenants_dir):
    (tenants_dir / "nayoro").mkdir()
    (tenants_dir / "nayoro" / "tenant.toml").write_text("", encoding="utf-8")
    result = runner.invoke(args=["tenant", "create", "nayoro", "--name", "名寄市", "--host", "n.localhost"])
    assert result.exit_code == 1
    assert "exists" in result.output


def test_list_shows_both_cities(runner, app_ctx):
    lines = runner.invoke(args=["tenant", "list"]).output.strip().splitlines()
    assert lines == [
        "kanazawa\t金沢市\tkanazawa.localhost\tlogin_id\tv1\tenabled",
        "nayoro\t名寄市\tnayoro.localhost\temail\tv1\tenabled",
    ]
