"""The appraisal checklist: the areas an officer must judge, and how each is judged."""

from __future__ import annotations

import enum


class AppraisalArea(enum.StrEnum):
    LEGAL_STANDING = "legal_standing"
    PURPOSE = "purpose"
    FEASIBILITY = "feasibility"
    FINANCIAL_CAPACITY = "financial_capacity"
    COLLATERAL = "collateral"
    CREDIT_HISTORY = "credit_history"


class FindingResult(enum.StrEnum):
    PASS = "pass"  # noqa: S105  # a verdict, not a password  # nosec B105
    CONCERN = "concern"
    FAIL = "fail"


def area_label(area: AppraisalArea) -> str:
    from loanfund.domain.i18n import _

    return {
        AppraisalArea.LEGAL_STANDING: _("Legal standing (registration, charter, authority)"),
        AppraisalArea.PURPOSE: _("Purpose eligible and as stated"),
        AppraisalArea.FEASIBILITY: _("Project feasibility (market, technology, inputs)"),
        AppraisalArea.FINANCIAL_CAPACITY: _("Financial capacity to repay"),
        AppraisalArea.COLLATERAL: _("Collateral (valuation and coverage)"),
        AppraisalArea.CREDIT_HISTORY: _("Credit history (credit-bureau check)"),
    }[area]


def result_label(result: FindingResult) -> str:
    from loanfund.domain.i18n import _

    return {
        FindingResult.PASS: _("pass"),
        FindingResult.CONCERN: _("concern"),
        FindingResult.FAIL: _("fail"),
    }[result]
