"""Every ``flask`` command that works on one city's data names the city itself (``--tenant``
or the slug as an argument, required, no default); the commands that work across cities by
design are listed below with the reason. A new command that takes a city's data without
naming it, or that quietly defaults to one, fails here until it does or is listed."""
from __future__ import annotations

import click

# Commands (or whole groups) that are not about one city, and why.
ACROSS_CITIES = {
    "db": "the schema every city shares (Flask-Migrate)",
    "vendor": "vendor accounts belong to no city",
    "keys": "the platform's encryption keys, for every city's rows",
    "tenant apply": "the city is the slug in the folder's tenant.toml",
    "tenant check": "checks a folder against the schema, touches no database",
    "tenant list": "lists every city",
    "tenant citus-ddl": "prints the SQL that distributes every city's tables; reads no database",
    "outbox send": "the mail worker sends every city's outbox, each mail under its own city",
    "outbox status": "counts per city",
    "outbox retry": "requeues failed mail of every city, or of the one --city names",
    "outbox purge": "the mail retention deletes old mail of every city at once (set-wise)",
    "notices mail-due": "cron job over every city, or the one --tenant names",
    "demo generate": "demo files for every demo city, or the ones --tenant names",
    "demo members": "demo members for every demo city, or the ones --tenant names",
    "demo contracts": "lists demo contracts of every demo city, or the ones --tenant names",
    "demo staff": "the demo console accounts of every demo city and the vendor",
    "demo procedures": "demo requests for every demo city, or the ones --tenant names",
    "demo alerts": "one demo area alert for every demo city, or the ones --tenant names",
    "readings watch": "cron job: records the 見守り check of every city, or of the one --tenant names",
    "procedures link-contracts": "cron job over every city, or the one --tenant names",
    "procedures daily-summary": "cron job over every city (set-wise), or the one --tenant names",
}
CITY_PARAMS = {"slug", "slugs", "tenant", "city"}
FLASK_OWN = {"run", "shell", "routes"}
NO_DEFAULT = getattr(click.core, "UNSET", None)  # click >= 8.2 marks "no default" with a sentinel


def leaf_commands(app):
    """(path, command) for every command of the app's CLI, groups expanded."""

    def walk(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    for name, command in app.cli.commands.items():
        if name not in FLASK_OWN:
            yield from walk(command, [name])


def across_cities(path: str) -> bool:
    words = path.split()
    return any(" ".join(words[:n]) in ACROSS_CITIES for n in range(1, len(words) + 1))


def test_every_city_command_requires_its_city(app):
    walked, unnamed, optional = 0, [], []
    for path, command in leaf_commands(app):
        walked += 1
        if across_cities(path):
            continue
        city = [p for p in command.params if p.name in CITY_PARAMS]
        if not city:
            unnamed.append(path)
        elif not all(p.required and p.default in (None, NO_DEFAULT) for p in city):
            optional.append(path)
    assert walked >= 20
    assert unnamed == [], f"these commands name no city: add --tenant, or list them in ACROSS_CITIES: {unnamed}"
    assert optional == [], f"the city must be required, without a default: {optional}"


def test_a_city_command_without_its_city_is_a_usage_error(runner, tmp_path):
    """The walk's promise, as the operator meets it: no city, no work (exit 2)."""
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    for args in (["import", "contracts", str(empty)], ["staff", "list"], ["tenant", "export"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "Missing" in result.output, (args, result.output)
