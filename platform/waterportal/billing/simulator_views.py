"""料金シミュレーション: anyone, without logging in, computes the city's charge for a 口径,
a usage and a period, with the breakdown (billing/tariff.py). Nothing is stored."""
from __future__ import annotations

from flask import abort, request
from flask_babel import lazy_gettext as _l

from waterportal.billing.blueprint import simulator
from waterportal.billing.simulator_forms import SimulatorForm
from waterportal.billing.tariff import ROUNDING_WORDS, estimate
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.templating import render_page

TITLE = _l("料金シミュレーション")


@simulator.route("", methods=["GET", "POST"])
def simulate():
    """The form; a valid POST shows the charge and its breakdown under it (422 with errors)."""
    tariff = current_tenant().settings.get("tariff")
    if not tariff:
        abort(404)  # the city has not published a tariff
    form = SimulatorForm(tariff)
    result = None
    if form.validate_on_submit():
        result = estimate(tariff, int(form.diameter.data), int(form.usage.data), int(form.months.data),
                          sewer=form.sewer.data == "1")
    body = render_page("pages/simulator.html", title=TITLE, form=form, result=result, tariff=tariff,
                       rounding=ROUNDING_WORDS[tariff["rounding"]])
    return (body, 422) if request.method == "POST" and form.errors else body
