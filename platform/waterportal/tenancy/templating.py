"""Per-city template resolution over plain loaders.

Citizen pages are rendered by an explicit list of names, most specific first::

    tenant/<slug>/templates/<name>     a city's own override
    theme/<theme>/templates/<name>     the city's theme
    theme/default/templates/<name>     the default theme (renders every page)

Each name is distinct, so Jinja's template cache can never hand one city's page to
another. Admin, vendor and core templates are rendered by bare names
(``admin/...``) that no ``tenant/`` or ``theme/`` prefix can reach, so a city or a
theme cannot override them.
"""
from __future__ import annotations

from pathlib import Path
from weakref import WeakKeyDictionary

from flask import Flask, current_app, render_template
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader, Template

from waterportal.core.web import install_remembered_url_for, remembered_url_for
from waterportal.tenancy.branding import colours_key
from waterportal.tenancy.context import TenantContext, current_tenant, current_tenant_or_none
from waterportal.tenancy.words import filled_texts


def build_loader(app: Flask, tenants_dir: Path, themes_dir: Path) -> BaseLoader:
    """The app's loader: prefixed city and theme folders, then the package's own templates."""
    return ChoiceLoader(
        [
            PrefixLoader(
                {"tenant": FileSystemLoader(str(tenants_dir)), "theme": FileSystemLoader(str(themes_dir))}
            ),
            FileSystemLoader(str(Path(app.root_path) / "templates")),
        ]
    )


def chain(tenant: TenantContext, name: str) -> list[str]:
    """Candidate template names for ``name`` in ``tenant``, most specific first."""
    names = [f"tenant/{tenant.slug}/templates/{name}", f"theme/{tenant.theme}/templates/{name}"]
    if tenant.theme != "default":
        names.append(f"theme/default/templates/{name}")
    return names


# loader -> {(slug, theme, version, name): the chain's first existing name}. Keyed by the
# loader so a test (or anything) that installs another loader starts afresh.
_resolved: WeakKeyDictionary[BaseLoader, dict[tuple, str]] = WeakKeyDictionary()


def city_template(tenant: TenantContext, name: str) -> Template:
    """The first template of ``tenant``'s chain for ``name`` (Jinja's ``select_template``).

    Which name of the chain exists is remembered per (city, its theme and settings
    version, name), so later requests do not ask the file system again for the names
    that do not exist (16 stats of missing files a dashboard, issue 10). With
    ``TEMPLATES_AUTO_RELOAD`` (development) the chain is walked every time, so a city's
    new template file shows at once.
    """
    env, loader = current_app.jinja_env, current_app.jinja_loader
    if env.auto_reload or loader is None:
        return env.select_template(chain(tenant, name))
    known = _resolved.setdefault(loader, {})
    key = (tenant.slug, tenant.theme, tenant.version, name)
    found = known.get(key)
    if found is None:
        found = env.select_template(chain(tenant, name)).name
        known[key] = found
    return env.get_template(found)


def render_page(name: str, **context) -> str:
    """Render a citizen page through the current city's template chain (its texts say the
    city's words through the catalogues, tenancy/words.py)."""
    tenant: TenantContext = current_tenant()
    context.setdefault("layout", city_template(tenant, "base.html"))
    context.setdefault("macros", city_template(tenant, "macros/forms.html"))
    return render_template(city_template(tenant, name), **context)


def register_templating(app: Flask) -> None:
    """Install the loader and the template globals every citizen page uses."""
    app.jinja_loader = build_loader(app, Path(app.config["TENANTS_DIR"]), Path(app.config["THEMES_DIR"]))  # type: ignore[assignment]
    install_remembered_url_for(app)

    @app.context_processor
    def tenant_globals():
        tenant = current_tenant_or_none()
        if tenant is None:
            return {}
        return {
            "tenant": tenant,
            "settings": tenant.settings,
            "city_texts": filled_texts(tenant.settings),  # [texts] with their placeholders filled
            # The city's colours: a stylesheet, not an inline <style> (no 'unsafe-inline' in the CSP).
            "brand_css_url": remembered_url_for("theme_assets.brand_css",
                                                c=colours_key(tenant.settings.get("branding", {}))),
        }

    @app.template_filter("yen")
    def yen(value: int | None) -> str:
        return "" if value is None else f"{value:,}"
