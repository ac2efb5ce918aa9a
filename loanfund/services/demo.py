"""Loading the demo fund through the same services users go through."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.access import SYSTEM, Actor
from loanfund.domain.applications import (
    ApplicationDraft,
    CashFlowLine,
    CollateralItem,
    CollateralKind,
    PriorityCategory,
)
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.cooperatives import CooperativeProfile, LegalType
from loanfund.domain.documents import DocumentKind, required_kinds
from loanfund.domain.inspections import VisitRecord
from loanfund.domain.products import ProductTerms, PurposeCategory
from loanfund.domain.repayments import Component
from loanfund.domain.roles import Role
from loanfund.models import Cooperative, Inspection, Loan, LoanProduct, Recall, User
from loanfund.services import demo_data
from loanfund.services.accounts import NewUser, actor_for, create_user
from loanfund.services.applications import (
    create_application,
    request_information,
    start_appraisal,
    submit_application,
    upload_document,
    withdraw_application,
)
from loanfund.services.appraisals import (
    AppraisalInput,
    complete_appraisal,
    decide_application,
    save_appraisal,
)
from loanfund.services.cooperatives import change_cooperative_status, create_cooperative
from loanfund.services.daily_close import close_through
from loanfund.services.file_store import FileStore
from loanfund.services.inspections import add_photos, decide_recall, submit_inspection
from loanfund.services.ledger import record_capital_contribution
from loanfund.services.loans import (
    approve_tranche,
    make_loan,
    pay_tranche,
    request_tranche,
    sign_contract,
)
from loanfund.services.products import create_product
from loanfund.services.repayments import payoff_quote, record_repayment, replay
from loanfund.services.restructurings import decide_restructuring, propose_restructuring


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    name: str


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def load_demo_fund(
    session: Session,
    *,
    hash_password: Callable[[str], str],
    today: dt.date,
    store: FileStore | None = None,
) -> list[DemoLogin]:
    """Create the demo staff, the fund's capital, cooperatives and representatives; returns
    the logins.

    Args:
        hash_password: Flask-Security's password hasher (passed in: services have no Flask).
        today: the business date the profiles are checked against.
        store: where the demo applications' documents go; ``None`` for no applications.
    """
    password_hash = hash_password(demo_data.DEMO_PASSWORD)
    logins: list[DemoLogin] = []
    for email, name, roles in demo_data.STAFF:
        create_user(
            session,
            actor=SYSTEM,
            new_user=NewUser(email=email, full_name=name, password_hash=password_hash),
            roles={Role(role) for role in roles},
        )
        logins.append(DemoLogin(role=roles[0], email=email, name=name))
    for days_ago, amount, source, reference in demo_data.CAPITAL:
        record_capital_contribution(
            session,
            actor=SYSTEM,
            amount=Decimal(amount),
            value_date=today - dt.timedelta(days=days_ago),
            source=source,
            reference=reference,
            today=today,
        )
    for product in demo_data.PRODUCTS:
        create_product(
            session,
            actor=SYSTEM,
            terms=ProductTerms(
                code=product["code"],
                name=product["name"],
                description=product["description"],
                purposes=frozenset(PurposeCategory(value) for value in product["purposes"]),
                min_amount=Decimal(product["min_amount"]),
                max_amount=Decimal(product["max_amount"]),
                min_term_months=product["min_term_months"],
                max_term_months=product["max_term_months"],
                default_term_months=product["default_term_months"],
                annual_rate_pct=Decimal(product["annual_rate_pct"]),
                overdue_rate_pct_of_rate=Decimal(150),
                schedule_options=product["schedule_options"],
            ),
        )
    for record in demo_data.COOPERATIVES:
        rep_email, rep_name = record["representative"]
        profile = CooperativeProfile(
            name=record["name"],
            legal_type=LegalType(record["legal_type"]),
            registration_no=record["registration_no"],
            tax_code=record["tax_code"],
            province=record["province"],
            district=record["district"],
            address=record["address"],
            sector=record["sector"],
            founded_on=dt.date.fromisoformat(record["founded_on"]),
            members_count=record["members_count"],
            women_members=record["women_members"],
            ethnic_minority_members=record["ethnic_minority_members"],
            charter_capital=Decimal(record["charter_capital"]),
            contact_name=record["contact_name"],
            contact_phone=record["contact_phone"],
            contact_email=rep_email,
        )
        cooperative = create_cooperative(session, actor=SYSTEM, profile=profile, today=today)
        if record["status"] == "verified":
            change_cooperative_status(
                session, actor=SYSTEM, cooperative_id=cooperative.id, action="verify"
            )
        create_user(
            session,
            actor=SYSTEM,
            new_user=NewUser(email=rep_email, full_name=rep_name, password_hash=password_hash),
            roles={Role.APPLICANT},
            cooperative_id=cooperative.id,
        )
        logins.append(DemoLogin(role="applicant", email=rep_email, name=record["name"]))
    if store is not None:
        load_demo_applications(session, store=store, today=today)
        # The last 30 business dates closed: debt groups, provisions and snapshots to show.
        close_through(session, through=today, start=today - dt.timedelta(days=30))
    return logins


def demo_pdf(title: str) -> bytes:
    """A one-page PDF saying what the demo document stands for (ASCII text, no diacritics)."""
    plain = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in plain if not unicodedata.combining(ch))
    text = text.encode("ascii", "replace").decode("ascii")
    text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 14 Tf 72 760 Td (Demo document: {text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


_ORDER = ("draft", "submitted", "in_appraisal", "info_requested", "appraised", "approved")


def _priority_of(
    session: Session, cooperative_id: int | None, purpose: PurposeCategory
) -> PriorityCategory:
    """The category a demo cooperative would claim: from its members, else from the project."""
    cooperative = session.get(Cooperative, cooperative_id) if cooperative_id else None
    if cooperative is None:
        return PriorityCategory.NONE
    if cooperative.ethnic_minority_members * 2 > cooperative.members_count:
        return PriorityCategory.ETHNIC_MINORITY
    if cooperative.women_members * 2 > cooperative.members_count:
        return PriorityCategory.WOMEN
    if purpose in (PurposeCategory.TRADE, PurposeCategory.WORKING_CAPITAL):
        return PriorityCategory.VALUE_CHAIN
    return PriorityCategory.NONE


def load_demo_applications(session: Session, *, store: FileStore, today: dt.date) -> int:
    """Applications of the demo cooperatives in every state, made through the services by the
    demo officer and approver, with a dossier of placeholder PDFs. Returns how many."""
    officer = actor_for(_user(session, "officer@demo.quyhtx.vn"))
    approver = actor_for(_user(session, "approver@demo.quyhtx.vn"))
    products = {product.code: product for product in session.scalars(select(LoanProduct))}
    for record in demo_data.APPLICATIONS:
        (
            email,
            code,
            target,
            days_ago,
            amount,
            term,
            purpose,
            purpose_text,
            project_text,
            cost,
            equity,
            flows,
            collateral,
        ) = record
        rep = actor_for(_user(session, email))
        submitted_on = today - dt.timedelta(days=days_ago)
        years = 5 if flows else 0
        draft = ApplicationDraft(
            product_id=products[code].id,
            amount=Decimal(amount),
            term_months=term,
            schedule_options=dict(products[code].schedule_options),
            purpose=PurposeCategory(purpose),
            priority=_priority_of(session, rep.cooperative_id, PurposeCategory(purpose)),
            purpose_description=purpose_text,
            project_description=project_text,
            project_cost=Decimal(cost),
            own_equity=Decimal(equity),
            members_benefiting=30,
            jobs_created=5,
            cash_flows=tuple(
                CashFlowLine(year, Decimal(flows[0]), Decimal(flows[1]))
                for year in range(1, years + 1)
            ),
            collateral=(
                (
                    CollateralItem(
                        CollateralKind(collateral[0]),
                        collateral[1],
                        "Hợp tác xã",
                        Decimal(collateral[2]),
                    ),
                )
                if collateral
                else ()
            ),
            guarantors=(),
            unsecured_requested=collateral is None,
        )
        application = create_application(
            session,
            actor=rep,
            cooperative_id=rep.cooperative_id,
            draft=draft,
            today=submitted_on,
        )
        kinds = sorted(required_kinds(None, secured=collateral is not None))
        for kind in kinds[: 2 if target == "draft" else len(kinds)]:
            upload_document(
                session,
                actor=rep,
                application_id=application.id,
                kind=DocumentKind(kind),
                filename=f"{kind}.pdf",
                source=demo_pdf(f"{application.number} {kind}"),
                store=store,
                max_bytes=10 * 1024 * 1024,
            )
        if target == "draft":
            continue
        submit_application(session, actor=rep, application_id=application.id, today=submitted_on)
        if target == "submitted":
            continue
        if target == "withdrawn":
            withdraw_application(
                session,
                actor=rep,
                application_id=application.id,
                reason="Hợp tác xã tự thu xếp được vốn từ thành viên.",
            )
            continue
        start_appraisal(session, actor=officer, application_id=application.id)
        if target == "info_requested":
            request_information(
                session,
                actor=officer,
                application_id=application.id,
                body="Đề nghị bổ sung hợp đồng đặt hàng đồng phục với các trường.",
            )
            continue
        complete = target in ("appraised", "approved", "contracted", "rejected")
        save_appraisal(
            session,
            actor=officer,
            application_id=application.id,
            data=AppraisalInput(
                findings={
                    area: (
                        FindingResult.CONCERN
                        if target == "rejected" and area is AppraisalArea.FINANCIAL_CAPACITY
                        else FindingResult.PASS,
                        "Đã kiểm tra hồ sơ và thực địa." if complete else "",
                    )
                    for area in (AppraisalArea if complete else list(AppraisalArea)[:3])
                },
                credit_check_on=submitted_on + dt.timedelta(days=2) if complete else None,
                credit_check_reference="CIC-" + application.number if complete else "",
                credit_check_result="clean" if complete else "",
                recommendation=("reject" if target == "rejected" else "approve")
                if complete
                else "",
                conditions="Mua bảo hiểm tài sản hình thành từ vốn vay." if complete else "",
            ),
            today=submitted_on + dt.timedelta(days=3),
        )
        if not complete:
            continue
        complete_appraisal(session, actor=officer, application_id=application.id, today=today)
        if target == "approved":
            decide_application(
                session,
                actor=approver,
                application_id=application.id,
                verdict="approve",
                today=today,
                conditions="Giải ngân theo tiến độ nghiệm thu máy móc.",
            )
            _demo_loan(session, application.id, officer=officer, approver=approver, today=today)
        elif target == "contracted":
            decide_application(
                session,
                actor=approver,
                application_id=application.id,
                verdict="approve",
                today=today,
            )
            loan = make_loan(session, actor=officer, application_id=application.id, today=today)
            sign_contract(session, actor=officer, loan_id=loan.id, signed_on=today, today=today)
        elif target == "rejected":
            decide_application(
                session,
                actor=approver,
                application_id=application.id,
                verdict="reject",
                today=today,
                reason="Dòng tiền dự án gần như bằng chi phí: không đủ khả năng trả nợ.",
            )
    return len(demo_data.APPLICATIONS) + _demo_history_loans(
        session, store=store, officer=officer, approver=approver, today=today
    )


def _demo_loan(
    session: Session, application_id: int, *, officer: Actor, approver: Actor, today: dt.date
) -> None:
    """The approved demo application becomes a signed loan with its first tranche paid."""
    loan = make_loan(session, actor=officer, application_id=application_id, today=today)
    sign_contract(session, actor=officer, loan_id=loan.id, signed_on=today, today=today)
    tranche = request_tranche(
        session,
        actor=officer,
        loan_id=loan.id,
        amount=Decimal(200_000_000),
        value_date=today,
        payee="Công ty TNHH Cơ khí Thực phẩm Miền Trung (máy rang, máy sấy)",
        account="4010 2010 55678 — Agribank Thừa Thiên Huế",
        reference="UNC 0001",
        idempotency_key=f"demo-loan-{loan.id}-1",
    )
    approve_tranche(session, actor=approver, tranche_id=tranche.id)
    pay_tranche(session, actor=officer, tranche_id=tranche.id, today=today)


def _demo_history_loans(
    session: Session, *, store: FileStore, officer: Actor, approver: Actor, today: dt.date
) -> int:
    """The loans of ``demo_data.HISTORY_LOANS``, each applied for, appraised, approved,
    contracted and paid out through the services on past dates, then repaid by its story."""
    products = {product.code: product for product in session.scalars(select(LoanProduct))}
    inspector = actor_for(_user(session, "inspector@demo.quyhtx.vn"))
    for spec in demo_data.HISTORY_LOANS:
        loan = _lent(
            session, spec, products, store=store, officer=officer, approver=approver, today=today
        )
        _repay(session, loan, spec, officer=officer, approver=approver, today=today)
        if "inspection" in spec:
            _inspect(
                session,
                loan,
                spec,
                inspector=inspector,
                approver=approver,
                store=store,
                today=today,
            )
    return len(demo_data.HISTORY_LOANS)


def demo_photo(label: str, gps: tuple[str, str], taken: dt.date, seed: int) -> bytes:
    """A field photo for the demo: a plain picture with the camera's time and GPS in EXIF."""
    from fractions import Fraction

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (40 + seed * 30 % 160, 110, 60 + seed * 50 % 150))
    draw = ImageDraw.Draw(image)
    for step in range(0, 800, 80):
        draw.line([(step, 600), (step + 200, 250)], fill=(230, 220, 180), width=6)
    draw.rectangle([20, 20, 780, 90], fill=(255, 255, 255))
    draw.text((40, 45), label, fill=(0, 0, 0))
    exif = Image.Exif()
    exif[0x0132] = taken.strftime("%Y:%m:%d 09:30:00")

    def dms(text: str) -> tuple[Fraction, Fraction, Fraction]:
        value = Fraction(text)
        degrees = int(value)
        minutes = (value - degrees) * 60
        return (Fraction(degrees), Fraction(int(minutes)), (minutes - int(minutes)) * 60)

    gps_ifd = exif.get_ifd(0x8825)
    gps_ifd.update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])})
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80, exif=exif)
    return out.getvalue()


def _inspect(
    session: Session,
    loan: Loan,
    spec: dict[str, Any],
    *,
    inspector: Actor,
    approver: Actor,
    store: FileStore,
    today: dt.date,
) -> None:
    """The first inspection of a demo loan, done 25 days after the disbursement (the
    concerns one 10 days late), with photos; a misuse leads to a recall approved 10 days ago."""
    plan = spec["inspection"]
    first = session.scalars(
        select(Inspection).where(Inspection.loan_id == loan.id, Inspection.kind == "first")
    ).one()
    late = plan["verdict"] == "concerns"
    visited = first.due_on + dt.timedelta(days=10 if late else -5)
    if plan["verdict"] == "misuse":
        visited = today - dt.timedelta(days=14)
    add_photos(
        session,
        actor=inspector,
        inspection_id=first.id,
        photos=[
            (
                f"anh-{n + 1}.jpg",
                demo_photo(f"{loan.contract_no} - {n + 1}", plan["gps"], visited, loan.id + n),
            )
            for n in range(plan["photos"])
        ],
        store=store,
    )
    disbursed = loan.amount
    texts = demo_data.INSPECTION_TEXTS[plan["verdict"]]
    submit_inspection(
        session,
        actor=inspector,
        inspection_id=first.id,
        record=VisitRecord(
            visited_on=visited,
            people_met=texts["people_met"],
            signatory=loan.cooperative.contact_name,
            funds_use=plan["use"],
            amount_verified={"fully": disbursed, "partly": disbursed * 6 // 10, "not": Decimal(0)}[
                plan["use"]
            ],
            progress_pct=texts["progress"],
            business_status=texts["business"],
            collateral_condition=texts["collateral"],
            risks=texts["risks"],
            verdict=plan["verdict"],
            follow_ups=tuple(
                (action, owner, visited + dt.timedelta(days=days))
                for action, owner, days in texts.get("follow_ups", ())
            ),
        ),
        internal_note=texts.get("note", ""),
        today=visited,
    )
    if plan["verdict"] == "misuse":
        recall = session.scalars(select(Recall).where(Recall.loan_id == loan.id)).one()
        decide_recall(
            session,
            actor=approver,
            recall_id=recall.id,
            verdict="approve",
            note="Thu hồi theo biên bản kiểm tra.",
            today=today - dt.timedelta(days=10),
        )


def _lent(
    session: Session,
    spec: dict[str, Any],
    products: dict[str, LoanProduct],
    *,
    store: FileStore,
    officer: Actor,
    approver: Actor,
    today: dt.date,
) -> Loan:
    rep = actor_for(_user(session, spec["rep"]))
    product = products[spec["product"]]
    paid_on = today - dt.timedelta(days=spec["disbursed_days_ago"])
    start = paid_on - dt.timedelta(days=30)
    kind, description, value = spec["collateral"]
    draft = ApplicationDraft(
        product_id=product.id,
        amount=Decimal(spec["amount"]),
        term_months=spec["term"],
        schedule_options=dict(product.schedule_options),
        purpose=PurposeCategory(spec["purpose"]),
        priority=_priority_of(session, rep.cooperative_id, PurposeCategory(spec["purpose"])),
        purpose_description=spec["purpose_text"],
        project_description=spec["project_text"],
        project_cost=Decimal(spec["cost"]),
        own_equity=Decimal(spec["cost"] - spec["amount"]),
        members_benefiting=60,
        jobs_created=12,
        cash_flows=(CashFlowLine(1, Decimal(spec["cost"]) * 4, Decimal(spec["cost"]) * 3),),
        collateral=(
            CollateralItem(CollateralKind(kind), description, "Hợp tác xã", Decimal(value)),
        ),
        guarantors=(),
    )
    application = create_application(
        session, actor=rep, cooperative_id=rep.cooperative_id, draft=draft, today=start
    )
    for document in sorted(required_kinds(None, secured=True)):
        upload_document(
            session,
            actor=rep,
            application_id=application.id,
            kind=DocumentKind(document),
            filename=f"{document}.pdf",
            source=demo_pdf(f"{application.number} {document}"),
            store=store,
            max_bytes=10 * 1024 * 1024,
        )
    submit_application(session, actor=rep, application_id=application.id, today=start)
    start_appraisal(session, actor=officer, application_id=application.id)
    save_appraisal(
        session,
        actor=officer,
        application_id=application.id,
        data=AppraisalInput(
            findings={area: (FindingResult.PASS, "Đạt.") for area in AppraisalArea},
            credit_check_on=start + dt.timedelta(days=3),
            credit_check_reference="CIC-" + application.number,
            credit_check_result="clean",
            recommendation="approve",
        ),
        today=start + dt.timedelta(days=5),
    )
    decided = start + dt.timedelta(days=20)
    complete_appraisal(session, actor=officer, application_id=application.id, today=decided)
    decide_application(
        session, actor=approver, application_id=application.id, verdict="approve", today=decided
    )
    loan = make_loan(session, actor=officer, application_id=application.id, today=decided)
    sign_contract(session, actor=officer, loan_id=loan.id, signed_on=decided, today=decided)
    tranche = request_tranche(
        session,
        actor=officer,
        loan_id=loan.id,
        amount=loan.amount,
        value_date=paid_on,
        payee=spec["payee"],
        account=spec["account"],
        reference=f"UNC {loan.id:04d}",
        idempotency_key=f"demo-loan-{loan.id}-1",
    )
    approve_tranche(session, actor=approver, tranche_id=tranche.id)
    pay_tranche(session, actor=officer, tranche_id=tranche.id, today=paid_on)
    return loan


def _repay(
    session: Session,
    loan: Loan,
    spec: dict[str, Any],
    *,
    officer: Actor,
    approver: Actor,
    today: dt.date,
) -> None:
    """Receipts by the loan's story, each on its own day and through the services."""
    story = spec["story"]
    # The first installment left unpaid fell due at least ``overdue_days`` ago.
    stop = today - dt.timedelta(days=spec.get("overdue_days", 0) + 29)
    restructure_on = today - dt.timedelta(days=spec.get("restructured_days_ago", 0))
    states, _terms = replay(session, loan)
    for number, state in enumerate(states):
        late = story == "on_time_one_late" and number == 2
        day = state.due.due_on + dt.timedelta(days=12) if late else state.due.due_on
        if day > today or (story in ("stopped", "restructured") and day > stop):
            break
        quote = payoff_quote(session, loan, day).by_component
        amount = (
            quote[Component.OVERDUE_PRINCIPAL]
            + quote[Component.OVERDUE_INTEREST]
            + quote[Component.PENALTY]
            + (Decimal(0) if late else state.principal_left + state.interest_left)
        )
        record_repayment(
            session,
            actor=officer,
            loan_id=loan.id,
            received_on=day,
            amount=amount,
            channel="bank",
            reference=f"GBC {loan.id:02d}{number + 1:02d}",
            idempotency_key=f"demo-repayment-{loan.id}-{number + 1}",
            today=day,
        )
    if story == "restructured":
        terms = spec["restructure"]
        proposal = propose_restructuring(
            session,
            actor=officer,
            loan_id=loan.id,
            kind="reschedule",
            request_on=restructure_on - dt.timedelta(days=6),
            request_reference=terms["request"],
            reason=terms["reason"],
            installments=terms["installments"],
            first_due_on=restructure_on + dt.timedelta(days=30),
            today=restructure_on,
        )
        decide_restructuring(
            session,
            actor=approver,
            restructuring_id=proposal.id,
            verdict="approve",
            note="Đồng ý giãn nợ do thiên tai; theo dõi kiểm tra sau 30 ngày.",
            today=restructure_on,
        )
