"""The words for schedule terms and their choices, shared by forms, pages and exports."""

from __future__ import annotations

from loanfund.domain.i18n import _


def term_titles() -> dict[str, str]:
    """A title for each schedule term, as a form label or a row heading."""
    return {
        "principal": _("Amount"),
        "annual_rate_pct": _("Annual interest rate (%)"),
        "installments": _("Number of installments"),
        "frequency": _("Frequency"),
        "every": _("Periods between installments"),
        "disbursed_on": _("Disbursement date"),
        "first_due_on": _("First due date"),
        "method": _("Repayment method"),
        "interest_basis": _("Interest basis"),
        "days_in_year": _("Days in a year"),
        "principal_grace": _("Principal grace (installments)"),
        "interest_deferred": _("Interest deferred (periods)"),
        "interest_free": _("Interest-free (periods)"),
        "principal_every": _("Principal every (installments)"),
        "currency_digits": _("Currency decimals"),
        "rounding": _("Rounding"),
        "installment_multiple": _("Round installments to a multiple of"),
        "installment_rounding": _("Installment rounding"),
    }


def option_labels(term: str) -> dict[str, str]:
    """The choices of a term with a fixed set of values, in words (empty for other terms)."""
    labels = {
        "frequency": {
            "day": _("Daily"),
            "week": _("Weekly"),
            "month": _("Monthly"),
            "quarter": _("Quarterly"),
            "half_year": _("Half-yearly"),
            "year": _("Yearly"),
        },
        "method": {
            "equal_principal": _("Equal principal, interest on the declining balance"),
            "annuity": _("Equal installments (annuity)"),
            "flat": _("Flat interest on the original principal"),
            "bullet": _("Interest each period, principal at the end"),
        },
        "interest_basis": {
            "daily": _("Actual days in each period"),
            "periodic": _("A fixed share of the year per period"),
        },
        "days_in_year": {
            "365": _("365 days"),
            "360": _("360 days"),
            "364": _("364 days"),
            "actual": _("Actual (365 or 366)"),
        },
        "rounding": {
            "half_up": _("Half up"),
            "half_even": _("Half to even (banker’s rounding)"),
        },
        "installment_rounding": {
            "nearest": _("To the nearest multiple"),
            "up": _("Up to the next multiple"),
        },
    }
    return labels.get(term, {})


def option_label(term: str, value: object) -> str:
    """A term's value in words: its choice label, or the value itself."""
    return option_labels(term).get(str(value), str(value))
