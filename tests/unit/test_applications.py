"""The application lifecycle table and the eligibility rules, without a database."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from loanfund.domain.applications import (
    APPLICATION_TRANSITIONS,
    ApplicationStatus,
    EligibilityFacts,
    Rule,
    check_eligibility,
    next_application_status,
)
from loanfund.domain.cooperatives import CooperativeStatus
from loanfund.domain.errors import InvalidTransition
from loanfund.domain.products import PurposeCategory
from loanfund.domain.schedule import ScheduleTerms
from tests.unit.test_products import EQUIPMENT

S = ApplicationStatus
D = Decimal

#: DESIGN §2, written out by hand: draft → submitted → in_appraisal ⇄ info_requested;
#: in_appraisal → appraised → approved | rejected (or back to appraisal); withdrawn from any
#: state before the decision.
EXPECTED = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "start_appraisal"): S.IN_APPRAISAL,
    (S.IN_APPRAISAL, "request_info"): S.INFO_REQUESTED,
    (S.INFO_REQUESTED, "answer"): S.IN_APPRAISAL,
    (S.IN_APPRAISAL, "complete_appraisal"): S.APPRAISED,
    (S.APPRAISED, "return_to_appraisal"): S.IN_APPRAISAL,
    (S.APPRAISED, "approve"): S.APPROVED,
    (S.APPRAISED, "reject"): S.REJECTED,
    (S.DRAFT, "withdraw"): S.WITHDRAWN,
    (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
    (S.IN_APPRAISAL, "withdraw"): S.WITHDRAWN,
    (S.INFO_REQUESTED, "withdraw"): S.WITHDRAWN,
    (S.APPRAISED, "withdraw"): S.WITHDRAWN,
}
ACTIONS = sorted({action for _status, action in EXPECTED})


def test_the_table_is_exactly_the_designed_lifecycle():
    assert dict(APPLICATION_TRANSITIONS) == EXPECTED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_and_action(status, action):
    if (status, action) in EXPECTED:
        assert next_application_status(status, action) is EXPECTED[(status, action)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            next_application_status(status, action)
        assert caught.value.http_status == 409
        assert caught.value.message.startswith("Cannot ")


# --- eligibility ------------------------------------------------------------------------------

TERMS = ScheduleTerms(
    principal=D(300_000_000),
    annual_rate_pct=D("5.4"),
    installments=36,
    disbursed_on=dt.date(2026, 11, 23),
)
FACTS = EligibilityFacts(
    cooperative_status=CooperativeStatus.VERIFIED,
    product=EQUIPMENT,
    terms=TERMS,
    purpose=PurposeCategory.EQUIPMENT,
    project_cost=D(500_000_000),
    own_equity=D(200_000_000),
    missing_documents=(),
    borrower_exposure=D(0),
    related_exposure=D(0),
    fund_capital=D(25_000_000_000),
)
POLICY = {
    "own_equity_min_pct": D(20),
    "single_borrower_max_pct": D(15),
    "related_borrowers_max_pct": D(25),
}


def rules(facts):
    return [finding.rule for finding in check_eligibility(facts, **POLICY)]


def test_a_sound_application_is_eligible():
    assert rules(FACTS) == []


def test_an_unverified_cooperative_may_not_borrow():
    assert rules(replace(FACTS, cooperative_status=CooperativeStatus.PENDING)) == [
        Rule.COOPERATIVE_VERIFIED
    ]


def test_own_equity_below_the_minimum_is_explained_with_the_numbers():
    # 60 m of 500 m = 12 %.
    findings = check_eligibility(replace(FACTS, own_equity=D(60_000_000)), **POLICY)
    assert [f.rule for f in findings] == [Rule.OWN_EQUITY]
    assert "Own equity is 12 % of the project cost" in findings[0].message
    assert "at least 20 % is required" in findings[0].message


def test_a_purpose_the_product_does_not_finance():
    assert rules(replace(FACTS, purpose=PurposeCategory.WORKSHOP)) == [Rule.PURPOSE]


def test_missing_documents_are_each_a_finding():
    facts = replace(FACTS, missing_documents=("Missing document: Business plan.", "Missing x."))
    assert rules(facts) == [Rule.DOCUMENTS, Rule.DOCUMENTS]


def test_the_single_borrower_limit_counts_what_is_already_owed():
    # Limit 15 % of 25 bn = 3.75 bn. Already owed 3.5 bn + 300 m asked = 3.8 bn > 3.75 bn.
    findings = check_eligibility(replace(FACTS, borrower_exposure=D(3_500_000_000)), **POLICY)
    assert [f.rule for f in findings] == [Rule.SINGLE_BORROWER]
    assert "3,800,000,000" in findings[0].message and "3,750,000,000" in findings[0].message
    # 3.45 bn + 300 m = 3.75 bn exactly: allowed.
    assert rules(replace(FACTS, borrower_exposure=D(3_450_000_000))) == []


def test_related_borrowers_together_stay_under_their_limit():
    # Limit 25 % of 25 bn = 6.25 bn. 300 m asked + 6 bn owed by related cooperatives = 6.3 bn.
    assert rules(replace(FACTS, related_exposure=D(6_000_000_000))) == [Rule.RELATED_BORROWERS]
    assert rules(replace(FACTS, related_exposure=D(5_950_000_000))) == []


def test_every_broken_rule_is_reported_at_once():
    facts = replace(
        FACTS,
        cooperative_status=CooperativeStatus.SUSPENDED,
        terms=replace(TERMS, principal=D(1_200_000_000)),
        purpose=PurposeCategory.OTHER,
        own_equity=D(10_000_000),
        missing_documents=("Missing document: Business plan.",),
        borrower_exposure=D(3_000_000_000),
    )
    assert set(rules(facts)) == {
        Rule.COOPERATIVE_VERIFIED,
        Rule.WITHIN_PRODUCT,
        Rule.PURPOSE,
        Rule.OWN_EQUITY,
        Rule.DOCUMENTS,
        Rule.SINGLE_BORROWER,
    }


def test_a_fund_without_capital_lends_to_nobody():
    assert rules(replace(FACTS, fund_capital=D(0))) == [Rule.SINGLE_BORROWER]
