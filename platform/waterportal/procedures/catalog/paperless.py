"""検針票 ペーパーレス (``paperless``): stop (or resume) the printed 検針票 of a linked
contract from the next billing month; the bills stay in the member's pages. A city that
does not offer it leaves ``paperless`` out of ``procedures.enabled``."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields

from waterportal.procedures import paperless_state
from waterportal.procedures.fields import Choice, display_value
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register
from waterportal.procedures.models import STATUS_RETURNED
from waterportal.tenancy.context import TenantContext

CHOICES = (paperless_state.OPT_IN, paperless_state.OPT_OUT)


class Consent(fields.Boolean):
    """The consent box: a value that is no tick and no blank is refused in the page's language."""

    def make_error(self, key: str, **kwargs: Any):
        if key == "invalid":
            return ValidationError(gettext("同意の確認を選択してください。"))
        return super().make_error(key, **kwargs)


class PaperlessSchema(Schema):
    choice = Choice("検針票", CHOICES)
    # A ticked box sends "y"; a resubmitted payload shows a stored True as 「はい」.
    consent = Consent(load_default=False, truthy={"y", "on", "1", "true", "yes", "はい"},
                      falsy={"", "0", "off", "false", "no", "いいえ"})


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    """Opting in needs the consent; a change to the state the contract already has (or has
    asked for) is refused; the first billing month it applies to is stored."""
    errors: dict[str, list[str]] = {}
    if data["choice"] == paperless_state.OPT_IN and not data["consent"]:
        errors["consent"] = [gettext("ペーパーレスにするには、検針票を会員さま専用サイトで確認することへの同意が必要です。")]
    if ctx.contract is not None:
        state = paperless_state.states(ctx.tenant, [ctx.contract.id])[ctx.contract.id]
        wanted = data["choice"] == paperless_state.OPT_IN
        # A request sent back (差戻し) is corrected by resubmitting it, which comes through here too.
        if state.pending is not None and state.pending.status != STATUS_RETURNED:
            errors["choice"] = [gettext("このお客様番号の検針票の切替は受付中です（受付番号 %(number)s）。"
                                        "完了までお待ちいただくか、お手続きの一覧から取り下げてください。",
                                        number=state.pending.receipt_number)]
        elif state.paperless == wanted:
            errors["choice"] = [gettext("すでにペーパーレスです。") if wanted else gettext("すでに紙の検針票を郵送しています。")]
        month = paperless_state.latest_bill_month(ctx.contract.id)
        data["effective_month"] = paperless_state.next_billing_month(ctx.tenant, month, ctx.today)
    if errors:
        raise ProcedureInvalid(errors)
    if data["choice"] == paperless_state.OPT_OUT:
        data["consent"] = False


def summary(tenant: TenantContext, shown: dict[str, Any]) -> list[tuple[str, str]]:  # noqa: ARG001
    """The receipt's rows in the page's language (the labels go through ``shown`` there)."""
    choice = shown.get("choice", "")
    rows = [("検針票", display_value(choice, CHOICES))]
    if shown.get("effective_month"):
        rows.append(("適用開始", gettext("%(month)sから", month=paperless_state.shown_month(shown["effective_month"]))))
    if choice == paperless_state.OPT_IN:
        rows.append(("同意", gettext("検針票・請求書を会員さま専用サイトで確認することに同意する")))
    return rows


register(ProcedureKind(
    paperless_state.KEY, "検針票のペーパーレス", PaperlessSchema, needs_contract=True, check=check, summary=summary,
    csv_columns=(("検針票", "choice"), ("適用開始月", "effective_month")),
    description="検針票（使用水量等のお知らせ）の郵送をやめて、会員さま専用サイトで確認する。元に戻すこともできます。",
    order=60,
))
