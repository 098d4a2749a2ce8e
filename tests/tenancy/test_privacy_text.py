"""The privacy page template (issue 13 §13): under 個人情報保護法, not the abolished ordinances."""
from __future__ import annotations

import re
import tomllib

import pytest

from waterportal.core.paths import TENANTS_DIR
from waterportal.provisioning.privacy import privacy_text

# What the page must state: the law, each item the portal collects with its purpose, the
# vendor as 委託先, retention and how to request disclosure.
STATEMENTS = (
    "個人情報の保護に関する法律", "メールアドレス: ログイン", "電話番号: ", "氏名カナ: ", "申込者と契約者の関係: ",
    "口座振替の金融機関・口座番号: ", "各種お手続きの添付書類: ", "委託先", "保存期間", "開示請求",
)


def page_text(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_cities_privacy_pages_name_the_law_not_the_abolished_ordinance(request, client_for, slug):
    tenant = request.getfixturevalue(slug)
    response = client_for(slug).get("/pages/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<br>電話番号: " in html  # one line per item
    text = page_text(html)
    assert "個人情報保護条例" not in text
    for statement in STATEMENTS:
        assert statement in text, statement
    assert f"{tenant.name}は、{tenant.portal_name}(以下「本サービス」" in text
    assert f"{tenant.name}が委託した事業者(委託先)" in text
    assert tenant.settings["contact"]["inquiry_email"] in text and "{" not in text
    # The customer number's name is the city's (名寄: お客様番号, 金沢: お客さま番号).
    label = tenant.settings["registration"].get("customer_number_label", "お客様番号")
    assert f"{label}とあわせて" in text


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_cities_use_the_scaffolded_template_with_their_own_names(slug):
    definition = tomllib.loads((TENANTS_DIR / slug / "tenant.toml").read_text(encoding="utf-8"))
    assert definition["texts"]["privacy"] == privacy_text(definition["name"], definition["portal_name"])


def test_tenant_create_scaffolds_the_privacy_template(app, runner, app_ctx, tmp_path, client_for):
    original = app.config["TENANTS_DIR"]
    app.config["TENANTS_DIR"] = str(tmp_path)
    try:
        result = runner.invoke(args=["tenant", "create", "asahikawa", "--name", "旭川市", "--host", "asahikawa.localhost"])
    finally:
        app.config["TENANTS_DIR"] = original
    assert result.exit_code == 0, result.output
    scaffolded = tomllib.loads((tmp_path / "asahikawa" / "tenant.toml").read_text(encoding="utf-8"))
    assert scaffolded["texts"]["privacy"] == privacy_text("旭川市", "旭川市上下水道ポータル")
    text = page_text(client_for("asahikawa.localhost").get("/pages/privacy").get_data(as_text=True))
    for statement in STATEMENTS:
        assert statement in text, statement
    assert "旭川市は、旭川市上下水道ポータル(以下「本サービス」" in text and "water@asahikawa.localhost" in text
