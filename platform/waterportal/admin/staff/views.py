"""職員の管理 (admins only): list, create with a one-time password, disable / enable, reset TOTP."""
from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, url_for

from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm, StaffCreateForm
from waterportal.admin.models import StaffMember
from waterportal.admin.sessions import staff_required
from waterportal.admin.staff import services as staff_svc
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant


def _staff_or_404(staff_id: int) -> StaffMember:
    staff = staff_svc.get_staff(staff_id)
    if staff is None:
        abort(404)
    return staff


@admin.get("/staff")
@staff_required("admin")
def staff_list():
    """職員一覧."""
    return render("staff.html", title="職員", people=staff_svc.list_staff(), form=ActionForm())


@admin.route("/staff/new", methods=["GET", "POST"])
@staff_required("admin")
def staff_new():
    """職員の追加: the generated one-time password is shown once, on this response only."""
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            person, password = staff_svc.create_staff(
                current_tenant(), form.email.data, form.role.data, form.name.data,
                actor=g.staff.actor, remote_addr=client_address(),
            )
        except staff_svc.StaffError as exc:
            getattr(form, exc.field if exc.field in form else "email").errors.append(exc.message)
        else:
            db.session.commit()
            # Rendered, not redirected: the password must not travel through the cookie session.
            return make_response(render("staff_created.html", title="職員を追加しました", person=person, password=password))
    return render("staff_new.html", title="職員の追加", form=form)


def _toggle(staff_id: int, disabled: bool):
    person = _staff_or_404(staff_id)
    try:
        staff_svc.set_disabled(person, disabled, g.staff, client_address())
    except staff_svc.StaffError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.staff_list"))
    db.session.commit()
    flash(f"{person.email} を{'無効' if disabled else '有効'}にしました。", "info")
    return redirect(url_for("admin.staff_list"))


@admin.post("/staff/<int:staff_id>/disable")
@staff_required("admin")
def staff_disable(staff_id: int):
    """Disable a staff member: every session ends at once."""
    return _toggle(staff_id, True)


@admin.post("/staff/<int:staff_id>/enable")
@staff_required("admin")
def staff_enable(staff_id: int):
    """Re-enable a staff member."""
    return _toggle(staff_id, False)


@admin.post("/staff/<int:staff_id>/reset-totp")
@staff_required("admin")
def staff_reset_totp(staff_id: int):
    """Reset a lost second factor: the staff member enrols again at next login if required."""
    person = _staff_or_404(staff_id)
    try:
        staff_svc.disable_totp(current_tenant(), person, g.staff, client_address())
    except staff_svc.StaffError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.staff_list"))
    db.session.commit()
    flash(f"{person.email} の2段階認証をリセットしました。", "info")
    return redirect(url_for("admin.staff_list"))
