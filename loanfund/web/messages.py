"""Showing a service's refusal to the user."""

from __future__ import annotations

from flask import flash

from loanfund.domain.errors import LoanFundError


def flash_problems(error: LoanFundError) -> None:
    """Flash every problem a service reported (one message per problem)."""
    for problem in getattr(error, "problems", (error.message,)):
        flash(problem, "danger")
