"""The officer's appraisal and the approvers' decision (four-eyes, credit council).

An appraisal gathers the checklist, the credit-bureau check, the officer's valuation of the
collateral and a recommendation. :func:`evaluate` computes, with today's figures, the proposed
schedule (the engine), the financial analysis and the scorecard (``domain.appraisal``) and the
eligibility findings; completing the appraisal freezes that evaluation on the record, so the
approver decides on exactly what the officer saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission
from loanfund.domain.applications import ApplicationStatus, Finding, next_application_status
from loanfund.domain.appraisal import (
    CashFlowYear,
    CreditBureauResult,
    Factor,
    FinancialAnalysis,
    ProjectFigures,
    Scorecard,
    ScorecardConfig,
    ScoreInputs,
    analyse,
    check_project,
    collateral_coverage_pct,
    explain_analysis,
    score,
    scorecard_inputs,
)
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult, area_label
from loanfund.domain.errors import Conflict, InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.notifications import NoticeKind
from loanfund.domain.policy import SCORE_WEIGHTS, Policy
from loanfund.domain.products import MAX_TERM_MONTHS
from loanfund.domain.roles import Role
from loanfund.domain.schedule import (
    TERM_FIELDS,
    Schedule,
    ScheduleTerms,
    build_schedule,
    parse_terms,
)
from loanfund.models import ApplicationDecision, Appraisal, AppraisalFinding, LoanApplication, User
from loanfund.models.types import money_digits, utcnow
from loanfund.services.applications import (
    Terms,
    _message,
    _tell,
    _transition,
    eligibility,
    fund_policy,
    load_application,
    requested_terms,
    schedule_terms,
)
from loanfund.services.audit import changed, record_event, snapshot
from loanfund.services.guards import hold_row
from loanfund.services.notifications import EmailRenderer, users_with_role
from loanfund.services.products import product_terms

RECOMMENDATIONS = ("approve", "reject")
_APPRAISAL_FIELDS = (
    "credit_check_on",
    "credit_check_reference",
    "credit_check_result",
    "recommendation",
    "recommended_amount",
    "recommended_term_months",
    "recommended_schedule",
    "conditions",
)


@dataclass(frozen=True, slots=True)
class AppraisalInput:
    """What the officer records.

    Attributes:
        findings: each checklist area's result and note (areas left out are not judged yet).
        collateral_values: the officer's valuation of each collateral item, by its id.
    """

    findings: Mapping[AppraisalArea, tuple[FindingResult, str]]
    credit_check_on: dt.date | None = None
    credit_check_reference: str = ""
    credit_check_result: str = ""
    recommendation: str = ""
    amount: Decimal | None = None
    term_months: int | None = None
    schedule_options: Mapping[str, Any] | None = None
    conditions: str = ""
    collateral_values: Mapping[int, Decimal | None] = field(default_factory=dict)


def _appraisal(session: Session, application: LoanApplication) -> Appraisal:
    appraisal = session.scalar(select(Appraisal).where(Appraisal.application_id == application.id))
    if appraisal is None:
        appraisal = Appraisal(application_id=application.id)
        session.add(appraisal)
        session.flush()
    return appraisal


def _snapshot(appraisal: Appraisal) -> dict[str, Any]:
    values = snapshot(appraisal, _APPRAISAL_FIELDS)
    values["findings"] = {
        finding.area.value: [finding.result.value, finding.note] for finding in appraisal.findings
    }
    return values


def _input_problems(
    application: LoanApplication, data: AppraisalInput, today: dt.date
) -> list[str]:
    problems: list[str] = []
    if data.credit_check_on and data.credit_check_on > today:
        problems.append(
            _(
                "The credit-bureau check date %(date)s is in the future.",
                date=fmt_date(data.credit_check_on),
            )
        )
    if data.credit_check_result and data.credit_check_result not in set(CreditBureauResult):
        problems.append(_("Choose the credit-bureau result."))
    if len(data.credit_check_reference) > 120:
        problems.append(_("The credit-bureau reference is too long (at most 120 characters)."))
    if data.recommendation and data.recommendation not in RECOMMENDATIONS:
        problems.append(_("Choose a recommendation."))
    if data.amount is not None and data.amount <= 0:
        problems.append(_("The recommended amount must be more than zero."))
    if data.term_months is not None and not 1 <= data.term_months <= MAX_TERM_MONTHS:
        problems.append(_("The recommended term must be 1 to %(max)s months.", max=MAX_TERM_MONTHS))
    known = {item.id for item in application.collateral}
    for item_id, value in data.collateral_values.items():
        if item_id not in known:
            problems.append(_("Unknown collateral item."))
        elif value is not None and value < 0:
            problems.append(_("A collateral value cannot be negative."))
    return problems


def save_appraisal(
    session: Session, *, actor: Actor, application_id: int, data: AppraisalInput, today: dt.date
) -> Appraisal:
    """Record the officer's findings, checks, valuation and recommendation (while in appraisal).

    Raises:
        InvalidTransition: the application is not in appraisal.
        RuleViolation: every problem with the input.
    """
    application = load_application(session, actor, application_id, Permission.APPRAISE)
    if application.status is not ApplicationStatus.IN_APPRAISAL:
        raise InvalidTransition(
            _("The appraisal can be changed only while the application is in appraisal.")
        )
    problems = _input_problems(application, data, today)
    if problems:
        raise RuleViolation(problems)
    appraisal = _appraisal(session, application)
    before = _snapshot(appraisal)
    appraisal.credit_check_on = data.credit_check_on
    appraisal.credit_check_reference = data.credit_check_reference.strip()
    appraisal.credit_check_result = data.credit_check_result
    appraisal.recommendation = data.recommendation
    appraisal.recommended_amount = data.amount
    appraisal.recommended_term_months = data.term_months
    appraisal.recommended_rate_pct = application.product.annual_rate_pct
    appraisal.recommended_schedule = (
        dict(data.schedule_options) if data.schedule_options is not None else None
    )
    appraisal.conditions = data.conditions.strip()
    existing = {finding.area: finding for finding in appraisal.findings}
    for area, (result, note) in data.findings.items():
        finding = existing.get(area)
        if finding is None:
            appraisal.findings.append(AppraisalFinding(area=area, result=result, note=note.strip()))
        else:
            finding.result, finding.note = result, note.strip()
    for item in application.collateral:
        if item.id in data.collateral_values:
            item.appraised_value = data.collateral_values[item.id]
    session.flush()
    old, new = changed(before, _snapshot(appraisal))
    if new:
        record_event(
            session,
            actor=actor,
            action="application.appraisal_save",
            entity="loan_application",
            entity_id=application.id,
            cooperative_id=application.cooperative_id,
            before=old,
            after=new,
        )
    session.commit()
    return appraisal


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The appraisal's figures with today's data (or why they cannot be computed)."""

    terms: Terms
    schedule: Schedule | None
    analysis: FinancialAnalysis | None
    explanation: list[str]
    scorecard: Scorecard | None
    eligibility: list[Finding]
    problems: list[str]
    #: What the figures were computed from, so the record can be replayed (see :func:`replay`).
    replay_inputs: dict[str, Any] | None = None


def recommended_terms(application: LoanApplication, appraisal: Appraisal | None) -> Terms:
    """The officer's recommended terms, falling back to what was asked for."""
    asked = requested_terms(application)
    if appraisal is None:
        return asked
    return Terms(
        appraisal.recommended_amount or asked.amount,
        appraisal.recommended_term_months or asked.term_months,
        appraisal.recommended_schedule
        if appraisal.recommended_schedule is not None
        else asked.schedule_options,
    )


def scorecard_config(policy: Policy) -> ScorecardConfig:
    """The scorecard's weights and thresholds as the fund set them (fund settings)."""
    weights = dict(zip(Factor, (getattr(policy, key) for key in SCORE_WEIGHTS), strict=True))
    return ScorecardConfig(
        weights=weights,
        equity_full_pct=policy.score_equity_full_pct,
        equity_half_pct=policy.score_equity_half_pct,
        dscr_full=policy.score_dscr_full,
        dscr_half=policy.score_dscr_half,
        collateral_full_pct=policy.score_collateral_full_pct,
        collateral_half_pct=policy.score_collateral_half_pct,
        irr_margin_full_pct=policy.score_irr_margin_full_pct,
        irr_margin_half_pct=policy.score_irr_margin_half_pct,
        findings_half_max_concerns=policy.score_findings_half_max_concerns,
        years_full=policy.score_years_full,
        years_half=policy.score_years_half,
        grade_a_min=policy.grade_a_min,
        grade_b_min=policy.grade_b_min,
        grade_c_min=policy.grade_c_min,
        grade_d_min=policy.grade_d_min,
    )


def _years_operating(founded_on: dt.date, today: dt.date) -> int:
    years = today.year - founded_on.year
    if (today.month, today.day) < (founded_on.month, founded_on.day):
        years -= 1
    return max(years, 0)


def evaluate(
    session: Session,
    application: LoanApplication,
    appraisal: Appraisal | None,
    *,
    today: dt.date,
    terms: Terms | None = None,
) -> Evaluation:
    """Schedule, analysis, scorecard and eligibility for ``terms`` (the recommended ones)."""
    terms = terms or recommended_terms(application, appraisal)
    problems: list[str] = []
    product = product_terms(application.product)
    schedule = analysis = scorecard = engine_terms = inputs = config = None
    explanation: list[str] = []
    try:
        engine_terms = schedule_terms(product, terms, disbursed_on=today)
        schedule = build_schedule(engine_terms)
    except RuleViolation as error:
        problems.extend(error.problems)
    project = ProjectFigures(
        total_cost=application.project_cost,
        own_equity=application.own_equity,
        cash_flows=tuple(
            CashFlowYear(line.year, line.revenue, line.operating_costs)
            for line in application.cash_flows
        ),
    )
    project_problems = check_project(project, currency_digits=money_digits())
    problems.extend(project_problems)
    if schedule is not None and not project_problems:
        try:
            analysis = analyse(
                project,
                schedule,
                disbursed_on=today,
                discount_rate_pct=fund_policy(session).discount_rate_pct,
                currency_digits=money_digits(),
            )
        except RuleViolation as error:
            problems.extend(error.problems)
    if analysis is not None:
        explanation = explain_analysis(analysis)
        if appraisal is not None and appraisal.credit_check_result:
            collateral_value = sum(
                (
                    item.appraised_value
                    if item.appraised_value is not None
                    else item.estimated_value
                    for item in application.collateral
                ),
                Decimal(0),
            )
            results = [finding.result for finding in appraisal.findings]
            inputs = scorecard_inputs(
                analysis,
                collateral_coverage_pct=collateral_coverage_pct(collateral_value, terms.amount),
                concern_count=results.count(FindingResult.CONCERN),
                fail_count=results.count(FindingResult.FAIL),
                years_operating=_years_operating(application.cooperative.founded_on, today),
                credit_bureau=CreditBureauResult(appraisal.credit_check_result),
            )
            config = scorecard_config(fund_policy(session))
            scorecard = score(inputs, config)
    return Evaluation(
        terms=terms,
        schedule=schedule,
        analysis=analysis,
        explanation=explanation,
        scorecard=scorecard,
        eligibility=eligibility(session, application, today=today, terms=terms),
        problems=problems,
        replay_inputs=_replay_inputs(project, engine_terms, analysis, inputs, config),
    )


def _text(value: Any) -> Any:
    """JSON for an exact value: decimals and dates as text, mappings and lists inside out."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_text(item) for item in value]
    return value


def _replay_inputs(
    project: ProjectFigures,
    engine_terms: ScheduleTerms | None,
    analysis: FinancialAnalysis | None,
    inputs: ScoreInputs | None,
    config: ScorecardConfig | None,
) -> dict[str, Any] | None:
    if engine_terms is None or analysis is None:
        return None
    return {
        "terms": _text({name: getattr(engine_terms, name) for name in TERM_FIELDS}),
        "project": _text(
            {
                "total_cost": project.total_cost,
                "own_equity": project.own_equity,
                "cash_flows": [
                    [line.year, line.revenue, line.operating_costs] for line in project.cash_flows
                ],
            }
        ),
        "disbursed_on": analysis.disbursed_on.isoformat(),
        "discount_rate_pct": str(analysis.discount_rate_pct),
        "score_inputs": _text(
            {name: getattr(inputs, name) for name in ScoreInputs.__dataclass_fields__}
        )
        if inputs
        else None,
        "score_config": _text(
            {name: getattr(config, name) for name in ScorecardConfig.__dataclass_fields__}
        )
        if config
        else None,
    }


@dataclass(frozen=True, slots=True)
class Replayed:
    """A completed appraisal's analysis and scorecard, recomputed from what it recorded: the
    same figures, with their sentences in the reader's language."""

    analysis: FinancialAnalysis
    explanation: list[str]
    scorecard: Scorecard | None


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def replay(appraisal: Appraisal | None) -> Replayed | None:
    """Recompute a completed appraisal from its record (``None`` when it has none)."""
    record = (appraisal.analysis or {}).get("replay") if appraisal else None
    if not record:
        return None
    terms = parse_terms(record["terms"], default_currency_digits=money_digits())
    project_data = record["project"]
    project = ProjectFigures(
        total_cost=Decimal(project_data["total_cost"]),
        own_equity=Decimal(project_data["own_equity"]),
        cash_flows=tuple(
            CashFlowYear(year, Decimal(revenue), Decimal(costs))
            for year, revenue, costs in project_data["cash_flows"]
        ),
    )
    analysis = analyse(
        project,
        build_schedule(terms),
        disbursed_on=dt.date.fromisoformat(record["disbursed_on"]),
        discount_rate_pct=Decimal(record["discount_rate_pct"]),
        currency_digits=terms.currency_digits,
    )
    scorecard = None
    if record.get("score_inputs") and record.get("score_config"):
        raw_inputs = record["score_inputs"]
        inputs = ScoreInputs(
            equity_ratio_pct=Decimal(raw_inputs["equity_ratio_pct"]),
            dscr_min=_decimal_or_none(raw_inputs["dscr_min"]),
            collateral_coverage_pct=Decimal(raw_inputs["collateral_coverage_pct"]),
            irr_pct=_decimal_or_none(raw_inputs["irr_pct"]),
            discount_rate_pct=Decimal(raw_inputs["discount_rate_pct"]),
            concern_count=raw_inputs["concern_count"],
            fail_count=raw_inputs["fail_count"],
            years_operating=raw_inputs["years_operating"],
            credit_bureau=CreditBureauResult(raw_inputs["credit_bureau"]),
        )
        raw_config = record["score_config"]
        config = ScorecardConfig(
            **{
                name: (
                    {Factor(key): Decimal(value) for key, value in raw_config[name].items()}
                    if name == "weights"
                    else raw_config[name]
                    if isinstance(raw_config[name], int)
                    else Decimal(raw_config[name])
                )
                for name in ScorecardConfig.__dataclass_fields__
            }
        )
        scorecard = score(inputs, config)
    return Replayed(analysis, explain_analysis(analysis), scorecard)


def _frozen(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as JSON for the record (exact decimals as strings)."""
    analysis = evaluation.analysis
    scorecard = evaluation.scorecard
    return {
        "amount": str(evaluation.terms.amount),
        "term_months": evaluation.terms.term_months,
        "npv": str(analysis.npv) if analysis else None,
        "irr_pct": str(analysis.irr_pct) if analysis and analysis.irr_pct is not None else None,
        "payback_years": str(analysis.payback_years)
        if analysis and analysis.payback_years is not None
        else None,
        "dscr_min": str(analysis.dscr_min) if analysis and analysis.dscr_min is not None else None,
        "dscr_avg": str(analysis.dscr_avg) if analysis and analysis.dscr_avg is not None else None,
        "equity_ratio_pct": str(analysis.equity_ratio_pct) if analysis else None,
        "explanation": evaluation.explanation,
        "score": str(scorecard.total) if scorecard else None,
        "grade": scorecard.grade.value if scorecard else None,
        "factors": [
            [factor.factor.value, str(factor.points), str(factor.weight), factor.reason]
            for factor in scorecard.factors
        ]
        if scorecard
        else [],
        "eligibility": [finding.message for finding in evaluation.eligibility],
        "replay": evaluation.replay_inputs,
    }


def complete_appraisal(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    today: dt.date,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """Finish the appraisal and send the application to the approvers.

    Raises:
        RuleViolation: an area not judged, no credit-bureau check, no recommendation, or
            (recommending approval) figures that cannot be computed or break a rule.
    """
    application = load_application(session, actor, application_id, Permission.APPRAISE)
    next_application_status(application.status, "complete_appraisal")
    appraisal = _appraisal(session, application)
    problems: list[str] = []
    judged = {finding.area for finding in appraisal.findings}
    for area in AppraisalArea:
        if area not in judged:
            problems.append(_("Judge “%(area)s”.", area=area_label(area)))
    if not (
        appraisal.credit_check_on
        and appraisal.credit_check_reference
        and appraisal.credit_check_result
    ):
        problems.append(_("Record the credit-bureau check: its date, reference and result."))
    if appraisal.recommendation not in RECOMMENDATIONS:
        problems.append(_("Recommend approval or rejection."))
    evaluation = evaluate(session, application, appraisal, today=today)
    if appraisal.recommendation == "approve":
        problems.extend(evaluation.problems)
        problems.extend(
            _("The recommended terms break a rule: %(finding)s", finding=finding.message)
            for finding in evaluation.eligibility
        )
    if problems:
        raise RuleViolation(problems)
    appraisal.analysis = _frozen(evaluation)
    appraisal.risk_grade = evaluation.scorecard.grade.value if evaluation.scorecard else ""
    appraisal.completed_at = utcnow()
    _transition(
        session,
        application,
        "complete_appraisal",
        actor=actor,
        values={"appraiser_id": actor.user_id},
        note=_("Recommendation: %(r)s", r=appraisal.recommendation),
    )
    _tell(
        session,
        application,
        users_with_role(session, Role.APPROVER.value),
        NoticeKind.APPRAISAL_COMPLETED,
        actor=actor,
        render_email=render_email,
    )
    session.commit()
    return application


# --- the decision ----------------------------------------------------------------------------

VERDICTS = ("approve", "reject", "return")


def approvals_needed(amount: Decimal, council_amount: Decimal) -> int:
    """One approver, or two (the credit council) above the council amount (0: always one)."""
    return 2 if council_amount > 0 and amount > council_amount else 1


def _four_eyes(actor: Actor, application: LoanApplication) -> None:
    if actor.user_id is None:
        raise NotPermitted(_("A decision must be taken by a person."))
    if actor.user_id in (application.appraiser_id, application.officer_id):
        raise NotPermitted(
            _(
                "You appraised this application or are its officer: someone else must decide "
                "it (four-eyes rule)."
            )
        )
    if actor.cooperative_id is not None and actor.cooperative_id == application.cooperative_id:
        raise NotPermitted(_("Nobody from the applicant may decide its application."))


def round_approvals(session: Session, application: LoanApplication) -> list[ApplicationDecision]:
    return list(
        session.scalars(
            select(ApplicationDecision).where(
                ApplicationDecision.application_id == application.id,
                ApplicationDecision.round == application.decision_round,
                ApplicationDecision.verdict == "approve",
            )
        )
    )


def decide_application(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    verdict: str,
    today: dt.date,
    terms: Terms | None = None,
    conditions: str = "",
    reason: str = "",
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """An approver approves (on the recommended or other terms within the product), rejects
    with a reason, or returns the application to appraisal.

    Raises:
        NotPermitted: the approver appraised the application or is its officer (four-eyes), or
            already approved it in this round.
        RuleViolation: no reason for a rejection or a return; terms that break a rule.
        InvalidTransition: the application is not awaiting a decision.
    """
    # Approvers take turns: the second of two approvals counts the first (credit council).
    hold_row(session, LoanApplication, application_id)
    application = load_application(session, actor, application_id, Permission.DECIDE_APPLICATION)
    if verdict not in VERDICTS:
        raise RuleViolation(_("Choose approve, reject or return to appraisal."))
    action = {"approve": "approve", "reject": "reject", "return": "return_to_appraisal"}[verdict]
    next_application_status(application.status, action)
    _four_eyes(actor, application)
    reason, conditions = reason.strip(), conditions.strip()
    appraisal = session.scalar(select(Appraisal).where(Appraisal.application_id == application.id))
    approvals = round_approvals(session, application)
    if any(decision.approver_id == actor.user_id for decision in approvals):
        raise NotPermitted(
            _("You have already approved this application; a second, different approver must.")
        )
    if verdict in ("reject", "return") and not reason:
        raise RuleViolation(
            _("Give the reason; the cooperative reads it.")
            if verdict == "reject"
            else _("Say what the officer should look at again.")
        )
    decided_terms = terms or (
        Terms(approvals[0].amount, approvals[0].term_months, approvals[0].schedule_options or {})
        if approvals
        else recommended_terms(application, appraisal)
    )
    if verdict == "approve":
        if approvals and (
            decided_terms.amount != approvals[0].amount
            or decided_terms.term_months != approvals[0].term_months
        ):
            raise RuleViolation(
                _(
                    "%(name)s approved %(amount)s over %(months)s months; the second approval "
                    "must be for the same terms (or reject, or return it to appraisal).",
                    name=approvals[0].approver_label,
                    amount=str(approvals[0].amount),
                    months=approvals[0].term_months,
                )
            )
        findings = eligibility(session, application, today=today, terms=decided_terms)
        if findings:
            raise RuleViolation([finding.message for finding in findings])
    decision = ApplicationDecision(
        application_id=application.id,
        round=application.decision_round,
        approver_id=actor.user_id,
        approver_label=actor.label,
        verdict=verdict,
        amount=decided_terms.amount if verdict == "approve" else None,
        term_months=decided_terms.term_months if verdict == "approve" else None,
        schedule_options=dict(decided_terms.schedule_options) if verdict == "approve" else None,
        conditions=conditions,
        reason=reason,
    )
    session.add(decision)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("This decision was already recorded.")) from None
    if verdict == "approve":
        needed = approvals_needed(decided_terms.amount, fund_policy(session).credit_council_amount)
        if len(approvals) + 1 < needed:
            record_event(
                session,
                actor=actor,
                action="application.first_approval",
                entity="loan_application",
                entity_id=application.id,
                cooperative_id=application.cooperative_id,
                after={"amount": decided_terms.amount, "term_months": decided_terms.term_months},
            )
            _tell(
                session,
                application,
                users_with_role(session, Role.APPROVER.value),
                NoticeKind.FIRST_APPROVAL,
                actor=actor,
                render_email=render_email,
            )
            session.commit()
            return application
        all_conditions = "\n".join(
            text for text in [*(d.conditions for d in approvals), conditions] if text
        )
        _transition(
            session,
            application,
            "approve",
            actor=actor,
            values={
                "decided_on": today,
                "approved_amount": decided_terms.amount,
                "approved_term_months": decided_terms.term_months,
                "approved_schedule": dict(decided_terms.schedule_options),
                "approved_conditions": all_conditions,
            },
        )
        if all_conditions:
            _message(session, application, actor=actor, kind="decision", body=all_conditions)
        recipients = _people(session, application)
        _tell(
            session,
            application,
            recipients,
            NoticeKind.APPLICATION_APPROVED,
            actor=actor,
            render_email=render_email,
            amount=decided_terms.amount,
        )
    elif verdict == "reject":
        _transition(
            session,
            application,
            "reject",
            actor=actor,
            values={"decided_on": today, "closing_reason": reason},
            note=reason,
        )
        _message(session, application, actor=actor, kind="decision", body=reason)
        _tell(
            session,
            application,
            _people(session, application),
            NoticeKind.APPLICATION_REJECTED,
            actor=actor,
            render_email=render_email,
        )
    else:
        _transition(
            session,
            application,
            "return_to_appraisal",
            actor=actor,
            values={"decision_round": application.decision_round + 1},
            note=reason,
        )
        _message(session, application, actor=actor, kind="note", body=reason, internal=True)
        officer = session.get(User, application.officer_id) if application.officer_id else None
        _tell(
            session,
            application,
            [officer] if officer else [],
            NoticeKind.RETURNED_TO_APPRAISAL,
            actor=actor,
            render_email=render_email,
        )
    session.commit()
    return application


def _people(session: Session, application: LoanApplication) -> list[User]:
    """The cooperative's representatives and the application's officer."""
    people = list(
        session.scalars(select(User).where(User.cooperative_id == application.cooperative_id))
    )
    if application.officer_id:
        officer = session.get(User, application.officer_id)
        if officer is not None:
            people.append(officer)
    return people
