"""Inspections: planning against hand-derived dates, photos (refusals, evidence kept, metadata
stripped), the visit's outcomes, and recall with its arithmetic and four-eyes decision.

The loan: 300,000,000 VND paid out on 23 Nov 2026 at 5.4 % (actual/365), 36 months, interest
monthly, principal every third month; overdue interest 150 % of the rate (8.1 % a year).
"""

import datetime as dt
import io
import struct
import zlib
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from loanfund.domain.errors import NotPermitted, RuleViolation
from loanfund.domain.inspections import VisitRecord
from loanfund.domain.loans import LoanStatus
from loanfund.domain.roles import Role
from loanfund.models import FollowUp, Inspection, JournalEntry, Recall
from loanfund.services.accounts import actor_for
from loanfund.services.daily_close import close_day
from loanfund.services.file_store import FileStore
from loanfund.services.inspections import (
    add_photos,
    decide_recall,
    save_draft,
    submit_inspection,
)
from loanfund.services.repayments import payoff_quote
from tests.conftest import TODAY
from tests.integration.conftest import disbursed_loan

D = Decimal
LENT = dt.date(2026, 11, 23)


@pytest.fixture
def loan(session, world):
    return disbursed_loan(session, world, amount=D(300_000_000), key="insp1")


@pytest.fixture
def inspector(factory):
    return actor_for(factory.user(Role.INSPECTOR))


def _first(session, loan):
    return session.scalars(
        select(Inspection).where(Inspection.loan_id == loan.id, Inspection.kind == "first")
    ).one()


def _record(**changes):
    values = dict(
        visited_on=dt.date(2026, 12, 18),
        people_met="Chị Lan, chủ nhiệm HTX",
        signatory="Nguyễn Thị Lan",
        funds_use="fully",
        amount_verified=D(300_000_000),
        progress_pct=60,
        business_status="Máy sấy đã lắp đặt, chạy thử.",
        collateral_condition="Tốt",
        risks="",
        verdict="compliant",
        follow_ups=(),
    )
    values.update(changes)
    return VisitRecord(**values)


def test_visits_are_planned_30_days_after_a_disbursement_then_every_180_or_90_days(session, loan):
    # First: 23 Nov 2026 + 30 days = 23 Dec 2026.
    assert _first(session, loan).due_on == dt.date(2026, 12, 23)
    close_day(session, day=dt.date(2026, 12, 1))
    periodic = session.scalars(
        select(Inspection).where(Inspection.loan_id == loan.id, Inspection.kind == "periodic")
    ).one()
    # No visit yet: 180 days after the disbursement, 23 Nov 2026 + 180 = 22 May 2027.
    assert periodic.due_on == dt.date(2027, 5, 22)
    # On 5 Jan 2027 the loan is 13 days late (group 2): 90 days, 21 Feb 2027.
    close_day(session, day=dt.date(2027, 1, 5))
    session.refresh(periodic)
    assert periodic.due_on == dt.date(2027, 2, 21)
    assert session.scalar(select(func.count(Inspection.id))) == 2  # moved, not duplicated


def _png_header(width, height):
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _jpeg_with_gps():
    image = Image.new("RGB", (64, 48), (20, 120, 40))
    exif = Image.Exif()
    exif[0x0132] = "2026:12:18 09:30:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (16.0, 27.0, 36.0), 3: "E", 4: (107.0, 35.0, 24.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_checked_and_served_without_their_location(session, loan, inspector, tmp_path):
    store = FileStore(tmp_path / "photos")
    inspection = _first(session, loan)
    refused = [
        ("trang.jpg", b"<html><script>alert(1)</script></html>"),
        ("huge.png", _png_header(30_000, 30_000)),
        ("big.jpg", b"\xff\xd8\xff" + b"\0" * (25 * 1024 * 1024)),
        ("hong.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 100),
    ]
    with pytest.raises(RuleViolation) as error:
        add_photos(
            session, actor=inspector, inspection_id=inspection.id, photos=refused, store=store
        )
    messages = error.value.problems
    assert len(messages) == 4
    assert "trang.jpg is not a JPEG, PNG or WEBP photo" in messages[0]
    assert "huge.png" in messages[1] and "million pixels" in messages[1]
    assert "big.jpg is 25" in messages[2] and "at most 15 MB" in messages[2]
    assert "hong.jpg could not be read" in messages[3]
    (photo,) = add_photos(
        session,
        actor=inspector,
        inspection_id=inspection.id,
        photos=[("may-say.jpg", _jpeg_with_gps())],
        store=store,
    )
    # 16°27'36" N = 16 + 27/60 + 36/3600 = 16.46; 107°35'24" E = 107.59.
    assert (photo.gps_latitude, photo.gps_longitude) == ("16.460000", "107.590000")
    assert photo.taken_at == "2026:12:18 09:30:00"
    served = Image.open(io.BytesIO(store.read(photo.store_key)))
    assert served.format == "JPEG" and not served.getexif()  # no time, no GPS


def test_concerns_open_follow_ups_and_tighten_the_next_visit(session, loan, inspector):
    inspection = _first(session, loan)
    save_draft(session, actor=inspector, inspection_id=inspection.id, fields={"people_met": "x"})
    assert inspection.draft["people_met"] == "x" and inspection.inspector_id == inspector.user_id
    with pytest.raises(RuleViolation, match="at least one follow-up"):
        submit_inspection(
            session,
            actor=inspector,
            inspection_id=inspection.id,
            record=_record(verdict="concerns"),
            internal_note="",
            today=dt.date(2026, 12, 18),
        )
    submit_inspection(
        session,
        actor=inspector,
        inspection_id=inspection.id,
        record=_record(
            verdict="concerns",
            funds_use="partly",
            amount_verified=D(200_000_000),
            follow_ups=(("Nộp hóa đơn mua máy đóng gói", "HTX", dt.date(2027, 1, 15)),),
        ),
        internal_note="Chủ nhiệm lúng túng khi hỏi về máy đóng gói.",
        today=dt.date(2026, 12, 18),
    )
    assert session.scalar(select(func.count(FollowUp.id))) == 1
    close_day(session, day=dt.date(2026, 12, 19))
    periodic = session.scalars(
        select(Inspection).where(Inspection.loan_id == loan.id, Inspection.kind == "periodic")
    ).one()
    # Concerns put the loan on watch: 90 days after the visit, 18 Dec 2026 + 90 = 18 Mar 2027.
    assert periodic.due_on == dt.date(2027, 3, 18)


def test_misuse_leads_to_a_recall_decided_by_someone_else(session, world, loan, inspector, factory):
    inspection = _first(session, loan)
    entries = session.scalar(select(func.count(JournalEntry.id)))
    submit_inspection(
        session,
        actor=inspector,
        inspection_id=inspection.id,
        record=_record(
            visited_on=dt.date(2027, 1, 28),
            funds_use="not",
            amount_verified=D(0),
            verdict="misuse",
            risks="Tiền vay dùng để mua ô tô cá nhân.",
        ),
        internal_note="",
        today=dt.date(2027, 1, 28),
    )
    recall = session.scalars(select(Recall)).one()
    assert recall.status == "proposed" and recall.proposed_by_id == inspector.user_id
    both = actor_for(factory.user(Role.INSPECTOR, Role.APPROVER))
    recall.proposed_by_id = both.user_id
    session.commit()
    with pytest.raises(NotPermitted, match="four-eyes"):
        decide_recall(
            session,
            actor=both,
            recall_id=recall.id,
            verdict="approve",
            note="",
            today=dt.date(2027, 2, 1),
        )
    decide_recall(
        session,
        actor=world["approver"],
        recall_id=recall.id,
        verdict="approve",
        note="",
        today=dt.date(2027, 2, 1),
    )
    session.refresh(loan)
    session.refresh(recall)
    assert loan.status is LoanStatus.RECALLED
    # All 300,000,000 falls due on 1 Feb 2027 with the interest accrued since 23 Jan: 9 of the
    # period's 31 days of 1,375,890 = 12,383,010 ÷ 31 = 399,451.9 → 399,452. The 23 Dec
    # (1,331,507) and 23 Jan (1,375,890) interest stay overdue. The borrower has 30 days:
    # 3 Mar 2027.
    assert (recall.principal_recalled, recall.interest_recalled) == (D(300_000_000), D(399_452))
    assert recall.deadline_on == dt.date(2027, 3, 3)
    # No money moved: the journal is as it was (the principal stays a receivable).
    assert session.scalar(select(func.count(JournalEntry.id))) == entries
    # Ten days later penalty has run on the recalled principal since 1 Feb:
    # 300,000,000 × 8.1 % × 10/365 = 665,753.4 → 665,753.
    quote = payoff_quote(session, loan, dt.date(2027, 2, 11))
    assert quote.total == (D(1_331_507) + D(1_375_890) + D(399_452) + D(300_000_000) + D(665_753))


def test_the_dashboards_inspection_figures_count_every_visit_and_each_loans_last(session, world):
    """Three visits done on two loans and one planned: worked out by hand.

    Loan A: on time and "fully" (day 10, due 12), then late and "partly" (day 40, due 35).
    Loan B: on time and "fully" (day 20, due 20), and a visit still planned (due day 50).
    Done 3, on time 2 of 3 = 66.67 %; loans inspected 2; their last visits: A "partly",
    B "fully", so 1 of 2 = 50.00 % verified as used for the stated purpose."""
    from loanfund.queries.inspections import figures

    first = disbursed_loan(session, world, amount=Decimal(100_000_000), key="fig-a")
    second = disbursed_loan(session, world, amount=Decimal(100_000_000), key="fig-b")
    session.execute(Inspection.__table__.delete())  # the visits the payouts planned
    day = TODAY - dt.timedelta(days=60)

    def visit(loan, visited, due, use):
        session.add(
            Inspection(
                loan_id=loan.id,
                kind="periodic",
                status="done" if use else "planned",
                due_on=day + dt.timedelta(days=due),
                visited_on=day + dt.timedelta(days=visited) if use else None,
                funds_use=use,
            )
        )

    visit(first, 10, 12, "fully")
    visit(first, 40, 35, "partly")
    visit(second, 20, 20, "fully")
    visit(second, None, 50, None)
    session.flush()
    found = figures(session, today=TODAY)
    assert (found.done, found.loans_inspected) == (3, 2)
    assert found.on_time_pct == Decimal("66.67")
    assert found.purpose_verified_pct == Decimal("50.00")
    assert found.overdue_visits == 1  # the planned one, due 10 days before TODAY
