"""The base of the citizen forms: typed text reaches validators and services without
control characters.

Nobody types a NUL byte or a bell, but a script can send them, and PostgreSQL refuses
NUL in text outright (a 500 on the first query or insert that carries it). So every
field of a :class:`CitizenForm` drops the C0/C1 control characters except tab and line
breaks before any validator, lookup or service sees the value; the rest of what was
typed is kept.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_controls(value: Any) -> Any:
    """``value`` with control characters (but tab, CR and LF) removed; non-strings as they are."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


class CitizenForm(FlaskForm):
    """A FlaskForm (CSRF token included) whose fields all filter out control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", ()), without_controls]
            return unbound_field.bind(form=form, **options, filters=filters)


class ConsoleForm(CitizenForm):
    """Base of every console form: control characters are dropped from every field, as in
    the citizens' forms (core.forms)."""



def _pairs(choices: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(choices.items()) if isinstance(choices, Mapping) else list(choices)


try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice

    def labelled_choices(choices: Mapping[str, str] | Iterable[tuple[str, str]]) -> list:
        """``{value: label}`` (or ``(value, label)`` pairs) as the choices of a select or radio field."""
        return [SelectChoice(value, label) for value, label in _pairs(choices)]
except ImportError:  # pragma: no cover - WTForms < 3.3
    def labelled_choices(choices: Mapping[str, str] | Iterable[tuple[str, str]]) -> list:
        return _pairs(choices)
