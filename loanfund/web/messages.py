"""Showing a service's refusal to the user."""

from __future__ import annotations

from typing import Any

from flask import flash

from loanfund.domain.errors import LoanFundError


def flash_problems(error: LoanFundError) -> None:
    """Flash every problem a service reported (one message per problem)."""
    for problem in getattr(error, "problems", (error.message,)):
        flash(problem, "danger")


def show_refusal(error: LoanFundError) -> None:
    """After a service refused: roll back, then flash its problems for the form's page, or
    re-raise what is a page of its own (404 not yours, 403 not your role, 409 already done)."""
    from loanfund.domain.errors import Conflict, InvalidTransition, NotFound, NotPermitted
    from loanfund.models import db

    db.session.rollback()
    if isinstance(error, NotFound | NotPermitted | InvalidTransition | Conflict):
        raise error
    flash_problems(error)


def flash_form_errors(form: Any) -> None:
    """Flash each validation message of a form posted from another page (a button or a small
    form on a detail page, which redirects back rather than re-rendering)."""
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")
