"""Every service transition writes exactly one audit row naming its action and entity.

Money movements also write one ``journal.*`` row per journal entry they post (the entry's own
audit row, from ``post_entry``); those are checked against the entries posted, and every other
new row must be exactly the transition's.
"""

from __future__ import annotations

import ast
import datetime as dt
import pathlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.errors import NotPermitted
from loanfund.domain.inspections import VisitRecord
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, Inspection, JournalEntry, Recall
from loanfund.services import applications as application_service
from loanfund.services import loans as loan_service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import (
    AppraisalInput,
    complete_appraisal,
    decide_application,
    save_appraisal,
)
from loanfund.services.cooperatives import change_cooperative_status
from loanfund.services.exports import request_export
from loanfund.services.inspections import decide_recall, plan_ad_hoc, submit_inspection
from loanfund.services.ledger import (
    approve_capital_movement,
    cancel_capital_movement,
    request_capital_movement,
)
from loanfund.services.repayments import approve_reversal, record_repayment, request_reversal
from loanfund.services.restructurings import (
    decide_restructuring,
    propose_restructuring,
    withdraw_restructuring,
)
from loanfund.services.settings import update_fund_settings
from tests.application_data import draft_application
from tests.conftest import TODAY
from tests.integration.conftest import appraised, disbursed_loan

D = Decimal
SERVICES = pathlib.Path(__file__).resolve().parents[2] / "loanfund" / "services"


class Trail:
    """The audit rows and journal entries written since the last look."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._mark()

    def _mark(self) -> None:
        self.previous_event = getattr(self, "last_event", 0)
        self.last_event = self.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        self.last_entry = self.session.scalar(select(func.coalesce(func.max(JournalEntry.id), 0)))

    def expect(self, call: Callable[[], Any], *transitions: tuple[str, str, object]) -> Any:
        """Run ``call``; its new audit rows must be exactly ``transitions`` (action, entity,
        entity id, or ``RESULT``), in order, plus one ``journal.*`` row per journal entry it
        posted."""
        result = call()
        events = self.session.scalars(
            select(AuditEvent).where(AuditEvent.id > self.last_event).order_by(AuditEvent.id)
        ).all()
        entries = self.session.scalars(
            select(JournalEntry.id).where(JournalEntry.id > self.last_entry)
        ).all()
        journal = [event for event in events if event.action.startswith("journal.")]
        others = [event for event in events if not event.action.startswith("journal.")]
        assert [(e.action, e.entity, e.entity_id) for e in others] == [
            (
                action,
                entity,
                None if entity_id is None else str(result.id if entity_id is RESULT else entity_id),
            )
            for action, entity, entity_id in transitions
        ]
        assert sorted(int(e.entity_id) for e in journal) == sorted(entries)
        assert all(e.entity == "journal_entry" for e in journal)
        self._mark()
        return result

    def posted(self, kind: str) -> int:
        """How many journal entries of ``kind`` the last call posted (checked by ``expect``)."""
        return self.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.id > self.previous_event,
                AuditEvent.id <= self.last_event,
                AuditEvent.action == f"journal.{kind}",
            )
        )


#: Stands for the id of the object the call returns.
RESULT = object()


def _appraisal() -> AppraisalInput:
    return AppraisalInput(
        findings={area: (FindingResult.PASS, "checked") for area in AppraisalArea},
        credit_check_on=TODAY,
        credit_check_reference="CIC-2026-118",
        credit_check_result="clean",
        recommendation="approve",
    )


def _record(**changes: Any) -> VisitRecord:
    values: dict[str, Any] = dict(
        visited_on=dt.date(2027, 1, 28),
        people_met="Chị Lan, chủ nhiệm HTX",
        signatory="Nguyễn Thị Lan",
        funds_use="not",
        amount_verified=D(0),
        progress_pct=0,
        business_status="Máy sấy chưa lắp.",
        collateral_condition="Tốt",
        risks="Tiền vay dùng để mua ô tô cá nhân.",
        verdict="misuse",
        follow_ups=(),
    )
    values.update(changes)
    return VisitRecord(**values)


def test_each_step_of_an_application_writes_one_audit_row(session, world):
    officer, approver = world["officer"], world["approver"]
    application = draft_application(session, world["rep"], world["product"], world["store"])
    trail = Trail(session)
    trail.expect(
        lambda: application_service.submit_application(
            session, actor=world["rep"], application_id=application.id, today=TODAY
        ),
        ("application.submit", "loan_application", application.id),
    )
    trail.expect(
        lambda: application_service.start_appraisal(
            session, actor=officer, application_id=application.id
        ),
        ("application.start_appraisal", "loan_application", application.id),
    )
    trail.expect(
        lambda: save_appraisal(
            session,
            actor=officer,
            application_id=application.id,
            data=_appraisal(),
            today=TODAY,
        ),
        ("application.appraisal_save", "loan_application", application.id),
    )
    trail.expect(
        lambda: complete_appraisal(
            session, actor=officer, application_id=application.id, today=TODAY
        ),
        ("application.complete_appraisal", "loan_application", application.id),
    )
    with pytest.raises(NotPermitted):  # the appraiser may not decide: nothing is written
        trail.expect(
            lambda: decide_application(
                session,
                actor=officer,
                application_id=application.id,
                verdict="approve",
                today=TODAY,
            )
        )
    session.rollback()
    trail.expect(lambda: None)
    trail.expect(
        lambda: decide_application(
            session, actor=approver, application_id=application.id, verdict="approve", today=TODAY
        ),
        ("application.approve", "loan_application", application.id),
    )
    other = appraised(session, world)
    trail = Trail(session)
    trail.expect(
        lambda: decide_application(
            session,
            actor=approver,
            application_id=other.id,
            verdict="reject",
            reason="Cash flow too thin.",
            today=TODAY,
        ),
        ("application.reject", "loan_application", other.id),
    )


def test_contract_tranches_and_activation_each_write_one_audit_row(session, world):
    officer, approver = world["officer"], world["approver"]
    application = appraised(session, world)
    decide_application(
        session, actor=approver, application_id=application.id, verdict="approve", today=TODAY
    )
    trail = Trail(session)
    loan = trail.expect(
        lambda: loan_service.make_loan(
            session, actor=officer, application_id=application.id, today=TODAY
        ),
        ("loan.create", "loan", RESULT),
    )
    trail.expect(
        lambda: loan_service.sign_contract(
            session, actor=officer, loan_id=loan.id, signed_on=TODAY, today=TODAY
        ),
        ("loan.sign", "loan", loan.id),
    )

    def request(amount: int, key: str) -> Any:
        return trail.expect(
            lambda: loan_service.request_tranche(
                session,
                actor=officer,
                loan_id=loan.id,
                amount=D(amount),
                value_date=TODAY,
                payee="HTX",
                account="0001",
                reference="",
                idempotency_key=key,
            ),
            ("loan.tranche_request", "loan", loan.id),
        )

    first = request(200_000_000, "a")
    trail.expect(
        lambda: loan_service.approve_tranche(session, actor=approver, tranche_id=first.id),
        ("loan.tranche_approve", "loan", loan.id),
    )
    # The first payment also activates the loan: its own transition, its own row.
    trail.expect(
        lambda: loan_service.pay_tranche(session, actor=officer, tranche_id=first.id, today=TODAY),
        ("loan.activate", "loan", loan.id),
        ("loan.tranche_pay", "loan", loan.id),
    )
    assert trail.posted("disbursement") == 1
    second = request(50_000_000, "b")
    loan_service.approve_tranche(session, actor=approver, tranche_id=second.id)
    trail = Trail(session)
    trail.expect(
        lambda: loan_service.pay_tranche(session, actor=officer, tranche_id=second.id, today=TODAY),
        ("loan.tranche_pay", "loan", loan.id),
    )
    third = request(50_000_000, "c")
    trail.expect(
        lambda: loan_service.cancel_tranche(
            session, actor=officer, tranche_id=third.id, reason="Not needed."
        ),
        ("loan.tranche_cancel", "loan", loan.id),
    )


def test_receipts_reversals_and_the_closing_payoff_each_write_one_audit_row(session, world):
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="rep")
    officer, approver = world["officer"], world["approver"]
    trail = Trail(session)

    def receive(amount: int, day: dt.date, key: str, *transitions: tuple[str, str, object]):
        return trail.expect(
            lambda: record_repayment(
                session,
                actor=officer,
                loan_id=loan.id,
                received_on=day,
                amount=D(amount),
                channel="bank",
                reference=key,
                idempotency_key=key,
                today=day,
            ),
            *transitions,
        )

    wrong = receive(5_000_000, dt.date(2026, 12, 23), "r1", ("loan.repayment", "loan", loan.id))
    trail.expect(
        lambda: request_reversal(session, actor=officer, repayment_id=wrong.id, reason="Wrong."),
        ("loan.repayment_reversal_request", "loan", loan.id),
    )
    trail.expect(
        lambda: approve_reversal(session, actor=approver, repayment_id=wrong.id),
        ("loan.repayment_reverse", "loan", loan.id),
    )
    assert trail.posted("reversal") == 1
    from loanfund.services.repayments import payoff_quote

    day = dt.date(2027, 1, 10)
    total = payoff_quote(session, loan, day).total
    receive(
        int(total),
        day,
        "r2",
        ("loan.repayment", "loan", loan.id),
        ("loan.close", "loan", loan.id),
    )


def _propose(session: Any, world: dict, loan: Any, day: dt.date) -> Any:
    return propose_restructuring(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        kind="reschedule",
        request_on=day,
        request_reference="CV 12/HTX",
        reason="Harvest lost to the flood",
        installments=10,
        first_due_on=dt.date(2027, 4, 1),
        today=day,
    )


def test_restructuring_steps_each_write_one_audit_row(session, world):
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="res")
    day = dt.date(2027, 3, 1)
    trail = Trail(session)
    withdrawn = trail.expect(
        lambda: _propose(session, world, loan, day),
        ("loan.restructure_propose", "loan", loan.id),
    )
    trail.expect(
        lambda: withdraw_restructuring(
            session, actor=world["officer"], restructuring_id=withdrawn.id, note="Paid instead."
        ),
        ("loan.restructure_withdraw", "loan", loan.id),
    )
    rejected = _propose(session, world, loan, day)
    trail = Trail(session)
    trail.expect(
        lambda: decide_restructuring(
            session,
            actor=world["approver"],
            restructuring_id=rejected.id,
            verdict="reject",
            note="No evidence of the flood.",
            today=day,
        ),
        ("loan.restructure_reject", "loan", loan.id),
    )
    approved = _propose(session, world, loan, day)
    trail = Trail(session)
    trail.expect(
        lambda: decide_restructuring(
            session,
            actor=world["approver"],
            restructuring_id=approved.id,
            verdict="approve",
            note="Flood relief",
            today=day,
        ),
        ("loan.restructure_approve", "loan", loan.id),
    )


def test_inspection_planning_submission_and_recall_each_write_one_audit_row(
    session, world, factory
):
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="ins")
    inspector = actor_for(factory.user(Role.INSPECTOR))
    trail = Trail(session)
    planned = trail.expect(
        lambda: plan_ad_hoc(
            session,
            actor=world["officer"],
            loan_id=loan.id,
            due_on=dt.date(2027, 1, 28),
            inspector_id=inspector.user_id,
            today=TODAY,
        ),
        ("inspection.plan", "loan", loan.id),
    )
    assert session.get(Inspection, planned.id).kind == "ad_hoc"
    # A visit that finds misuse is two transitions: the visit is done, a recall is proposed.
    trail.expect(
        lambda: submit_inspection(
            session,
            actor=inspector,
            inspection_id=planned.id,
            record=_record(),
            internal_note="",
            today=dt.date(2027, 1, 28),
        ),
        ("inspection.submit", "loan", loan.id),
        ("loan.recall_propose", "loan", loan.id),
    )
    recall = session.scalars(select(Recall)).one()
    trail.expect(
        lambda: decide_recall(
            session,
            actor=world["approver"],
            recall_id=recall.id,
            verdict="approve",
            note="",
            today=dt.date(2027, 2, 1),
        ),
        ("loan.recall", "loan", loan.id),
    )


def test_capital_settings_cooperative_and_export_changes_each_write_one_audit_row(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    approver = actor_for(factory.user(Role.APPROVER))
    cooperative = factory.cooperative()
    trail = Trail(session)

    def request(kind: str) -> Any:
        return trail.expect(
            lambda: request_capital_movement(
                session,
                actor=admin,
                kind=kind,
                amount=D(1_000_000),
                value_date=TODAY,
                source="Provincial budget",
                reference="QĐ 7",
                today=TODAY,
            ),
            (f"capital.{kind}_request", "capital_movement", RESULT),
        )

    paid_in = request("contribution")
    trail.expect(
        lambda: approve_capital_movement(
            session, actor=approver, movement_id=paid_in.id, today=TODAY
        ),
        ("capital.contribution_post", "capital_movement", paid_in.id),
    )
    assert trail.posted("capital_contribution") == 1
    taken_out = request("withdrawal")
    trail.expect(
        lambda: cancel_capital_movement(
            session, actor=approver, movement_id=taken_out.id, reason="Entered twice."
        ),
        ("capital.cancel", "capital_movement", taken_out.id),
    )

    def settings(council: str) -> Any:
        return update_fund_settings(
            session,
            actor=admin,
            fund_name="Test Fund",
            timezone="Asia/Ho_Chi_Minh",
            policy_values={"credit_council_amount": council},
            currency_digits=0,
        )

    trail.expect(lambda: settings("200000000"), ("settings.update", "settings", None))
    trail.expect(lambda: settings("200000000"))  # nothing changed: no transition, no row
    trail.expect(
        lambda: change_cooperative_status(
            session,
            actor=admin,
            cooperative_id=cooperative.id,
            action="suspend",
            reason="Under investigation.",
        ),
        ("cooperative.suspend", "cooperative", cooperative.id),
    )
    job = trail.expect(
        lambda: request_export(
            session,
            actor=admin,
            kind="disbursements",
            params={"from": "2026-11-01", "to": "2026-11-23"},
            locale="en",
            today=TODAY,
        ),
        ("export.request", "export_job", RESULT),
    )
    assert job.status.value == "queued"


# --- structure: every status change in the service layer is audited ---------------------------


def _calls(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def _service_call_graph() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """Each top-level function of ``loanfund/services`` → the functions it calls, resolved to
    (module, name) through ``from loanfund.services.x import y``."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for path in sorted(SERVICES.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "loanfund.services."
            ):
                for alias in node.names:
                    imported[alias.asname or alias.name] = (
                        node.module.rsplit(".", 1)[1],
                        alias.name,
                    )
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                graph[(path.stem, node.name)] = {
                    imported.get(name, (path.stem, name)) for name in _calls(node)
                }
    return graph


def _reaches(graph: dict, start: tuple[str, str], targets: set[str]) -> bool:
    seen: set[tuple[str, str]] = set()
    todo = [start]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        for callee in graph.get(key, ()):
            if callee[1] in targets:
                return True
            if callee in graph:
                todo.append(callee)
    return False


def test_every_public_service_that_changes_a_status_also_writes_the_audit_log():
    graph = _service_call_graph()
    changing = [
        key
        for key in graph
        if not key[1].startswith("_") and _reaches(graph, key, {"change_status", "next_status"})
    ]
    # The scan finds the transitions (a scan that finds none would prove nothing).
    assert ("loans", "pay_tranche") in changing and ("repayments", "approve_reversal") in changing
    unaudited = [key for key in changing if not _reaches(graph, key, {"record_event"})]
    assert unaudited == []
