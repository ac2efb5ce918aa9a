"""A synthetic fund for the benchmarks: many loans, with years of history, written fast.

:func:`generate_fund` loads the demo fund (its staff, products, cooperatives and loans, dated
up to the day before ``today`` and closed through it), then adds ``loans`` synthetic loans
with bulk inserts (SQLAlchemy Core ``insert(Model)`` with lists of rows, one transaction per
batch of loans, ids computed in advance):

* **cooperatives** in the demo's two provinces, each with 1–3 loans, members (women and
  ethnic-minority members among them), sectors and districts;
* **applications**: one approved (with its appraisal's credit check) per loan, and about one
  in twenty cooperatives with another still in the pipeline (submitted, in appraisal, waiting
  for information or appraised);
* **loans** under the demo's products (machinery, workshops, working capital), of round
  amounts, 12–60 months, at the product's rate for the year they were made, disbursed in one
  tranche on a day in the six years before ``today``; each with its schedule built by the
  schedule engine (one build per distinct terms, reused);
* **receipts** on or after the due dates, allocated by ``domain.repayments`` exactly as
  ``services.repayments`` allocates them (so a replay of a loan gives the stored allocations),
  each posted as one balanced journal entry, like each disbursement;
* a **mix of stories**: repaid and closed (some prepaid in full), current, overdue by 1–30,
  31–90, 91–180, 181–360 and more than 360 days (some with a partial payment), recalled after
  a ``misuse`` inspection, and restructured (a new schedule version);
* **inspections**: the first visit after each disbursement (done with a verdict, or planned);
* the fund's **capital**: one contribution, dated before the first synthetic loan, equal to
  what the synthetic loans disbursed, so the fund never lends money it does not have.

The daily close of ``today`` is left to run (the demo is closed through the day before): it
ages every loan, and plans the periodic inspections. Audit rows are not written for the
synthetic rows (the services write them; they are not read by the pages measured).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from loanfund.domain.applications import ApplicationStatus, PriorityCategory
from loanfund.domain.calendar import add_months
from loanfund.domain.cooperatives import CooperativeStatus, LegalType
from loanfund.domain.i18n import _
from loanfund.domain.ledger import Account, EntryKind
from loanfund.domain.loans import LoanStatus, TrancheStatus, contract_number
from loanfund.domain.money import round_money
from loanfund.domain.products import PurposeCategory, installments_for
from loanfund.domain.repayments import (
    Allocation,
    Change,
    Component,
    InstallmentState,
    Terms,
    allocate,
    apply_change,
    change_basis,
    initial_state,
    payoff,
)
from loanfund.domain.schedule import build_schedule, parse_terms, to_json_dict
from loanfund.domain.text import fold
from loanfund.models import (
    Appraisal,
    CapitalMovement,
    Cooperative,
    Inspection,
    JournalEntry,
    JournalLine,
    Loan,
    LoanApplication,
    LoanProduct,
    Recall,
    Repayment,
    Restructuring,
    ScheduleVersion,
    Tranche,
    User,
)
from loanfund.models.types import money_digits
from loanfund.services import loan_state
from loanfund.services.applications import fund_policy
from loanfund.services.ledger import recount_receivables
from loanfund.services.repayments import _allocation_json, _entry_lines

#: Synthetic loans written per transaction.
BATCH = 2_000
#: The demo fund's business date (the default ``today``).
DEMO_TODAY = dt.date(2026, 11, 23)
#: Loans are disbursed over this many years before ``today``.
YEARS = 6

#: Stories and their shares of the book.
STORIES: dict[str, float] = {
    "closed": 0.27,
    "current": 0.45,
    "overdue_1_30": 0.08,
    "overdue_31_90": 0.06,
    "overdue_91_180": 0.045,
    "overdue_181_360": 0.035,
    "overdue_361": 0.03,
    "recalled": 0.015,
    "restructured": 0.015,
}
#: Days past due (first, last) of each overdue story.
OVERDUE_DAYS: dict[str, tuple[int, int]] = {
    "overdue_1_30": (1, 30),
    "overdue_31_90": (31, 90),
    "overdue_91_180": (91, 180),
    "overdue_181_360": (181, 360),
    "overdue_361": (361, 1_400),
}

#: Per product code: amounts (million VND) and terms (months) offered.
PRODUCT_MIX: dict[str, tuple[float, tuple[int, ...], tuple[int, ...]]] = {
    "TB-2026": (0.45, (100, 150, 200, 250, 300, 400, 500, 600, 800, 1000), (12, 24, 36, 48, 60)),
    "NX-2026": (0.2, (200, 300, 400, 500, 700, 1000, 1500, 2000), (24, 36, 48, 60)),
    "VLD-2026": (0.35, (50, 80, 100, 150, 200, 300, 500), (12,)),
}
#: Rates were higher in earlier years: points added to the product's rate by year.
RATE_BY_YEAR = {2020: "1.2", 2021: "1.0", 2022: "0.8", 2023: "0.6", 2024: "0.3"}

PLACES = {
    "Thừa Thiên Huế": (
        ("Quảng Điền", ("Quảng Phú", "Quảng Thọ", "Quảng An", "Đan Điền", "Quảng Thành")),
        ("Phong Điền", ("Phong Hiền", "Phong An", "Phong Thu", "Điền Hương")),
        ("Phú Vang", ("Phú Mỹ", "Vinh Thanh", "Phú Diên", "Vinh Xuân")),
        ("Phú Lộc", ("Lộc An", "Lộc Bổn", "Vinh Hưng", "Lộc Trì")),
        ("A Lưới", ("Hồng Kim", "A Ngo", "Hồng Thượng", "Trung Sơn")),
        ("Nam Đông", ("Khe Tre", "Hương Phú", "Thượng Long")),
        ("Thành phố Huế", ("Vỹ Dạ", "Thủy Biều", "Hương Long", "Thủy Xuân")),
    ),
    "Phú Thọ": (
        ("Đoan Hùng", ("Vân Du", "Chí Đám", "Bằng Luân", "Hữu Đô")),
        ("Thanh Sơn", ("Thục Luyện", "Võ Miếu", "Địch Quả", "Tân Minh")),
        ("Tân Sơn", ("Kim Thượng", "Xuân Đài", "Minh Đài", "Thạch Kiệt")),
        ("Cẩm Khê", ("Tiên Lương", "Phượng Vĩ", "Văn Bán")),
        ("Yên Lập", ("Mỹ Lung", "Lương Sơn", "Xuân Viên")),
        ("Thanh Thủy", ("Bảo Yên", "Đoan Hạ", "Tu Vũ")),
    ),
}
#: Districts where most members of a cooperative are often ethnic minorities.
MINORITY_DISTRICTS = frozenset({"A Lưới", "Nam Đông", "Tân Sơn", "Thanh Sơn", "Yên Lập"})
#: (name prefix, sector, purposes it borrows for).
KINDS = (
    ("HTX Nông nghiệp", "Trồng lúa, dịch vụ làm đất và thủy lợi", ("equipment", "crops_livestock")),
    ("HTX Chè", "Trồng và chế biến chè", ("equipment", "workshop", "working_capital")),
    ("HTX Bưởi", "Trồng bưởi đạt chuẩn VietGAP", ("crops_livestock", "working_capital")),
    ("HTX Chăn nuôi", "Chăn nuôi lợn, gà an toàn sinh học", ("crops_livestock", "workshop")),
    ("HTX Thủy sản", "Nuôi trồng và sơ chế thủy sản", ("equipment", "working_capital")),
    ("HTX Mây tre đan", "Thủ công mỹ nghệ mây tre đan, xuất khẩu", ("workshop", "trade")),
    ("HTX Dịch vụ tổng hợp", "Dịch vụ vật tư nông nghiệp và tiêu thụ nông sản", ("trade",)),
    ("HTX Dược liệu", "Trồng và sơ chế dược liệu", ("equipment", "crops_livestock")),
    ("HTX Chế biến nông sản", "Chế biến lạc, gạo, nông sản đóng gói", ("equipment", "workshop")),
    ("Tổ hợp tác may", "May mặc", ("equipment", "working_capital")),
)
PENDING = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.IN_APPRAISAL,
    ApplicationStatus.INFO_REQUESTED,
    ApplicationStatus.APPRAISED,
)
#: Tables in the order they are written (each refers only to those before it).
TABLES = (
    Cooperative,
    LoanApplication,
    Appraisal,
    Loan,
    ScheduleVersion,
    JournalEntry,
    JournalLine,
    Tranche,
    Repayment,
    Inspection,
    Restructuring,
    Recall,
    CapitalMovement,
)


# --- the database around the synthetic rows ---------------------------------------------------


def prepare_database(session: Session, *, today: dt.date, store_dir: Path) -> None:
    """Load the demo fund, dated up to the day before ``today`` (and closed through it), into
    a database with the schema and the fund's settings and no data yet."""
    from flask_security import hash_password

    from loanfund.services.demo import load_demo_fund
    from loanfund.services.file_store import FileStore

    load_demo_fund(
        session,
        hash_password=hash_password,
        today=today - dt.timedelta(days=1),
        store=FileStore(store_dir),
    )


@dataclasses.dataclass
class _Ids:
    """The next id of each table, counted here: the rows are written with their ids."""

    next: dict[str, int]

    @classmethod
    def read(cls, session: Session) -> _Ids:
        return cls(
            {
                model.__tablename__: (session.scalar(select(func.max(model.id))) or 0) + 1
                for model in TABLES
                if model is not JournalLine
            }
        )

    def take(self, model: Any) -> int:
        table = model.__tablename__
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclasses.dataclass(frozen=True)
class _Staff:
    officer: int
    approver: int
    inspector: int
    admin: int
    officer_label: str
    admin_label: str


def _staff(session: Session) -> _Staff:
    def user(email: str) -> User:
        found = session.scalar(select(User).where(User.email == email))
        if found is None:
            raise RuntimeError(f"The demo user {email} is missing: load the demo fund first.")
        return found

    officer, admin = user("officer@demo.quyhtx.vn"), user("admin@demo.quyhtx.vn")
    return _Staff(
        officer=officer.id,
        approver=user("approver@demo.quyhtx.vn").id,
        inspector=user("inspector@demo.quyhtx.vn").id,
        admin=admin.id,
        officer_label=officer.email,
        admin_label=admin.email,
    )


def _stamp(day: dt.date, hour: int = 9) -> dt.datetime:
    """A working-hours moment of a business day in Việt Nam (UTC+7), in UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=7)


# --- one loan's story ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Rows:
    """Rows waiting to be written, by model."""

    by_model: dict[Any, list[dict[str, Any]]] = dataclasses.field(
        default_factory=lambda: {model: [] for model in TABLES}
    )

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.by_model[model].append(row)


class _Generator:
    """Makes the synthetic rows; every random choice comes from one seeded generator."""

    def __init__(self, session: Session, *, seed: int, today: dt.date) -> None:
        self.random = random.Random(seed)  # noqa: S311  # reproducible data, not secrets  # nosec B311
        self.today = today
        self.start = add_months(today, -12 * YEARS)
        self.digits = money_digits()
        self.policy = fund_policy(session)
        self.staff = _staff(session)
        self.ids = _Ids.read(session)
        self.products = {
            product.code: product
            for product in session.scalars(
                select(LoanProduct).where(LoanProduct.code.in_(list(PRODUCT_MIX)))
            )
        }
        if set(self.products) != set(PRODUCT_MIX):
            raise RuntimeError("The demo's loan products are missing: load the demo fund first.")
        self.schedules: dict[tuple[Any, ...], tuple[dict[str, Any], list[Any]]] = {}
        self.numbers: Counter[int] = Counter()
        self.disbursed = Decimal(0)
        self.first_day = today
        self.stories: Counter[str] = Counter()
        self.templates = {
            "disbursement": _("Disbursement to %(payee)s under %(contract)s"),
            "repayment": _("Repayment under %(contract)s"),
        }

    # -- helpers

    def _number(self, prefix: str, year: int) -> str:
        """``HS-2024-10007`` / ``HĐ-2024-10007``: per year, from 10001, so that the numbers the
        services give next (the largest, plus one) never meet them."""
        self.numbers[(prefix, year)] += 1  # type: ignore[index]
        sequence = 10_000 + self.numbers[(prefix, year)]  # type: ignore[index]
        return contract_number(year, sequence) if prefix == "HĐ" else f"HS-{year}-{sequence}"

    def _day_between(self, first: dt.date, last: dt.date) -> dt.date:
        if last <= first:
            return first
        return first + dt.timedelta(days=self.random.randint(0, (last - first).days))

    def _schedule(self, terms: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """The engine's schedule for ``terms`` (built once per distinct terms)."""
        key = tuple(sorted((name, str(value)) for name, value in terms.items()))
        found = self.schedules.get(key)
        if found is None:
            schedule = build_schedule(parse_terms(terms, default_currency_digits=self.digits))
            built = to_json_dict(schedule, self.digits)
            found = (built, loan_state._dues(built["installments"]))
            self.schedules[key] = found
        return found

    def _entry(
        self,
        rows: _Rows,
        *,
        kind: EntryKind,
        day: dt.date,
        lines: list[tuple[Account, Decimal, Decimal]],
        description: str,
        reference: str,
        cooperative_id: int | None,
        loan_id: int | None,
        label: str,
        user_id: int | None,
    ) -> int:
        entry_id = self.ids.take(JournalEntry)
        rows.add(
            JournalEntry,
            {
                "id": entry_id,
                "kind": kind,
                "value_date": day,
                "description": description,
                "reference": reference,
                "cooperative_id": cooperative_id,
                "loan_id": loan_id,
                "posted_at": _stamp(day, 10),
                "posted_by_id": user_id,
                "posted_by_label": label,
            },
        )
        for account, debit, credit in lines:
            rows.add(
                JournalLine,
                {"entry_id": entry_id, "account": account, "debit": debit, "credit": credit},
            )
        return entry_id

    # -- cooperatives and applications

    def cooperative(self, rows: _Rows, number: int) -> tuple[int, dict[str, Any]]:
        pick = self.random
        province = pick.choice(list(PLACES))
        district, communes = pick.choice(PLACES[province])
        commune = pick.choice(communes)
        prefix, sector, purposes = pick.choice(KINDS)
        group = prefix.startswith("Tổ")
        members = pick.randint(7, 25) if group else pick.randint(9, 180)
        women_share = pick.uniform(0.6, 0.95) if group else pick.uniform(0.15, 0.7)
        minority_share = pick.uniform(0.5, 1.0) if district in MINORITY_DISTRICTS else 0.0
        if district not in MINORITY_DISTRICTS and pick.random() < 0.1:
            minority_share = pick.uniform(0.02, 0.2)
        name = f"{prefix} {commune}"
        if pick.random() < 0.5:
            name += f" {pick.choice(('Xanh', 'Thịnh Phát', 'An Bình', 'Phú Cường', 'Hòa Hợp'))}"
        cooperative_id = self.ids.take(Cooperative)
        code = "3301" if province == "Thừa Thiên Huế" else "2601"
        founded = self._day_between(dt.date(1998, 1, 1), self.start - dt.timedelta(days=400))
        rows.add(
            Cooperative,
            {
                "id": cooperative_id,
                "name": name,
                "name_folded": fold(name),
                "legal_type": LegalType.GROUP_MEMBER if group else LegalType.COOPERATIVE,
                "registration_no": f"{code}S-{number:07d}",
                "tax_code": f"{code[:2]}9{number:07d}",
                "province": province,
                "district": district,
                "address": f"Xã {commune}, huyện {district}, tỉnh {province}",
                "sector": sector,
                "founded_on": founded,
                "members_count": members,
                "women_members": round(members * women_share),
                "ethnic_minority_members": round(members * minority_share),
                "charter_capital": Decimal(pick.randint(2, 80) * 50_000_000),
                "contact_name": pick.choice(("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"))
                + " "
                + pick.choice(("Văn", "Thị", "Hữu", "Đức", "Thị Thu", "Quang"))
                + " "
                + pick.choice(("An", "Bình", "Hà", "Lan", "Minh", "Phú", "Sơn", "Tâm", "Hoa")),
                "contact_phone": f"09{pick.randint(10_000_000, 99_999_999)}",
                "contact_email": f"htx{number}@hoptacxa.example.vn",
                "status": CooperativeStatus.VERIFIED,
                "verified_at": _stamp(founded + dt.timedelta(days=30)),
                "verified_by_id": self.staff.admin,
                "created_at": _stamp(self.start - dt.timedelta(days=60)),
                "updated_at": _stamp(self.start - dt.timedelta(days=30)),
            },
        )
        facts = {
            "id": cooperative_id,
            "purposes": purposes,
            "members": members,
            "priority": (
                PriorityCategory.ETHNIC_MINORITY
                if minority_share > 0.5
                else PriorityCategory.WOMEN
                if women_share > 0.5
                else PriorityCategory.NONE
            ),
        }
        return cooperative_id, facts

    def application(
        self,
        rows: _Rows,
        coop: dict[str, Any],
        product: LoanProduct,
        *,
        amount: Decimal,
        term: int,
        status: ApplicationStatus,
        submitted_on: dt.date,
        decided_on: dt.date | None,
    ) -> int:
        pick = self.random
        application_id = self.ids.take(LoanApplication)
        purpose = next((p for p in coop["purposes"] if p in product.purposes), product.purposes[0])
        cost = amount * Decimal(pick.choice((125, 140, 160, 200))) / 100
        approved = status is ApplicationStatus.APPROVED
        rows.add(
            LoanApplication,
            {
                "id": application_id,
                "number": self._number("HS", submitted_on.year),
                "cooperative_id": coop["id"],
                "product_id": product.id,
                "status": status,
                "amount": amount,
                "term_months": term,
                "schedule_options": dict(product.schedule_options),
                "purpose": PurposeCategory(purpose),
                "priority": coop["priority"],
                "purpose_description": "Đầu tư theo phương án sản xuất kinh doanh của hợp tác xã.",
                "project_description": "Mở rộng sản xuất, tạo việc làm cho thành viên.",
                "project_cost": cost.quantize(Decimal(1)),
                "own_equity": (cost - amount).quantize(Decimal(1)),
                "members_benefiting": coop["members"],
                "jobs_created": pick.randint(0, 25),
                "unsecured_requested": False,
                "created_at": _stamp(submitted_on - dt.timedelta(days=7)),
                "created_by_id": None,
                "submitted_on": submitted_on,
                "complete_on": submitted_on + dt.timedelta(days=3),
                "decided_on": decided_on,
                "officer_id": self.staff.officer,
                "appraiser_id": self.staff.officer if approved else None,
                "approved_amount": amount if approved else None,
                "approved_term_months": term if approved else None,
                "approved_schedule": dict(product.schedule_options) if approved else None,
                "approved_conditions": "",
            },
        )
        if approved or status is ApplicationStatus.APPRAISED:
            rows.add(
                Appraisal,
                {
                    "id": self.ids.take(Appraisal),
                    "application_id": application_id,
                    "credit_check_on": submitted_on + dt.timedelta(days=5),
                    "credit_check_reference": f"CIC-{application_id}",
                    "credit_check_result": "clean",
                    "recommended_amount": amount,
                    "recommended_term_months": term,
                    "recommendation": "approve",
                    "risk_grade": pick.choice(("A", "A", "B", "B", "C")),
                    "completed_at": _stamp(submitted_on + dt.timedelta(days=10)),
                },
            )
        return application_id

    # -- loans

    def _pick_terms(self) -> tuple[LoanProduct, Decimal, int]:
        pick = self.random
        codes = list(PRODUCT_MIX)
        code = pick.choices(codes, weights=[PRODUCT_MIX[c][0] for c in codes])[0]
        _share, amounts, terms = PRODUCT_MIX[code]
        return self.products[code], Decimal(pick.choice(amounts) * 1_000_000), pick.choice(terms)

    def _rate(self, product: LoanProduct, day: dt.date) -> Decimal:
        extra = Decimal(RATE_BY_YEAR.get(day.year, "0")) if day.year < 2025 else Decimal(0)
        # As the rate column gives it back (``RatePct``), so the replay computes the same.
        return (product.annual_rate_pct + extra).normalize() + Decimal("0.00")

    def _engine_terms(
        self, product: LoanProduct, amount: Decimal, term: int, rate: Decimal, day: dt.date
    ) -> dict[str, Any]:
        """The first version's terms, as ``services.loan_state.first_version`` makes them."""
        options = dict(product.schedule_options)
        return {
            **options,
            "annual_rate_pct": str(rate),
            "disbursed_on": day.isoformat(),
            "principal": str(amount),
            "installments": installments_for(
                term, str(options.get("frequency", "month")), int(options.get("every", 1))
            ),
        }

    def _disbursal_day(self, story: str, term: int) -> dt.date:
        """A disbursement day that lets ``story`` happen by ``today``."""
        latest = self.today - dt.timedelta(days=12)
        if story == "closed":
            return self._day_between(self.start, add_months(self.today, -term) - dt.timedelta(15))
        if story == "current":
            first = max(self.start, add_months(self.today, -term) + dt.timedelta(days=20))
            return self._day_between(first, latest)
        if story in OVERDUE_DAYS:
            low, high = OVERDUE_DAYS[story]
            target = self.today - dt.timedelta(days=self.random.randint(low, min(high, low + 40)))
            return max(self.start, add_months(target, -self.random.randint(1, term)))
        # recalled, restructured: months of history before the trouble
        return self._day_between(self.start, add_months(self.today, -8))

    def loan(self, rows: _Rows, coop: dict[str, Any], story: str) -> None:
        """One loan and its whole history, told by ``story``."""
        pick = self.random
        product, amount, term = self._pick_terms()
        for _attempt in range(30):
            paid_on = self._disbursal_day(story, term)
            rate = self._rate(product, paid_on)
            engine_terms = self._engine_terms(product, amount, term, rate, paid_on)
            built, dues = self._schedule(engine_terms)
            plan = self._plan(story, dues)
            if plan is not None:
                break
        else:  # pragma: no cover - the days above always leave room
            raise RuntimeError(f"No disbursement day fits the story {story!r}.")
        self.stories[story] += 1
        decided = paid_on - dt.timedelta(days=pick.randint(5, 25))
        application_id = self.application(
            rows,
            coop,
            product,
            amount=amount,
            term=term,
            status=ApplicationStatus.APPROVED,
            submitted_on=decided - dt.timedelta(days=pick.randint(12, 30)),
            decided_on=decided,
        )
        loan_id = self.ids.take(Loan)
        contract = self._number("HĐ", decided.year)
        staff = self.staff
        self.disbursed += amount
        self.first_day = min(self.first_day, paid_on)
        entry_id = self._entry(
            rows,
            kind=EntryKind.DISBURSEMENT,
            day=paid_on,
            lines=[
                (Account.LOANS_RECEIVABLE, amount, Decimal(0)),
                (Account.CASH, Decimal(0), amount),
            ],
            description=self.templates["disbursement"]
            % {"payee": "Hợp tác xã", "contract": contract},
            reference=f"UNC {loan_id}",
            cooperative_id=coop["id"],
            loan_id=loan_id,
            label=staff.officer_label,
            user_id=staff.officer,
        )
        tranche_id = self.ids.take(Tranche)
        rows.add(
            Tranche,
            {
                "id": tranche_id,
                "loan_id": loan_id,
                "status": TrancheStatus.PAID,
                "amount": amount,
                "value_date": paid_on,
                "payee": "Hợp tác xã",
                "account": f"{4000 + loan_id % 9000}{loan_id:08d}",
                "reference": f"UNC {loan_id}",
                "idempotency_key": f"gen-{loan_id}-t1",
                "requested_by_id": staff.officer,
                "requested_at": _stamp(paid_on - dt.timedelta(days=3)),
                "approved_by_id": staff.approver,
                "paid_by_id": staff.officer,
                "journal_entry_id": entry_id,
                "note": "",
            },
        )
        rows.add(
            ScheduleVersion,
            {
                "id": self.ids.take(ScheduleVersion),
                "loan_id": loan_id,
                "version": 1,
                "reason": "first_tranche",
                "effective_from": paid_on,
                "after_sequence": 0,
                "kept": 0,
                "settles": False,
                "accrues_from": None,
                "terms": engine_terms,
                "installments": built,
                "created_at": _stamp(paid_on, 11),
            },
        )
        terms = Terms(
            disbursed_on=paid_on,
            annual_rate_pct=rate,
            overdue_rate_pct_of_rate=product.overdue_rate_pct_of_rate,
            order=self.policy.allocation_order,
            prepayment_mode=self.policy.prepayment_mode,
            late_interest_rate_pct=self.policy.late_interest_rate_pct,
            days_in_year=int(engine_terms.get("days_in_year") or 365),
            digits=self.digits,
        )
        history = _History(
            self,
            rows,
            loan_id=loan_id,
            contract=contract,
            coop_id=coop["id"],
            options=dict(product.schedule_options),
        )
        states = initial_state(dues, paid_on)
        status = self._tell(story, plan, history, states, terms, built, loan_id=loan_id)
        closed_on = None
        if history.last_day is not None and payoff(states, terms, history.last_day).total == 0:
            status, closed_on = LoanStatus.CLOSED, history.last_day
        rows.add(
            Loan,
            {
                "id": loan_id,
                "application_id": application_id,
                "cooperative_id": coop["id"],
                "product_id": product.id,
                "contract_no": contract,
                "status": status,
                "amount": amount,
                "term_months": term,
                "annual_rate_pct": rate,
                "overdue_rate_pct_of_rate": product.overdue_rate_pct_of_rate,
                "late_interest_rate_pct": terms.late_interest_rate_pct,
                "allocation_order": terms.order,
                "prepayment_mode": terms.prepayment_mode,
                "restructure_count": 1 if story == "restructured" else 0,
                "closed_on": closed_on,
                "schedule_options": dict(product.schedule_options),
                "conditions": "",
                "signed_on": decided,
                "created_at": _stamp(decided, 14),
                "created_by_id": staff.officer,
            },
        )
        self._first_inspection(rows, loan_id, tranche_id, paid_on, story)

    def _plan(self, story: str, dues: list[Any]) -> int | None:
        """For an overdue story, the index of the first installment left unpaid (its days past
        due on ``today`` fall in the story's range); for the others, a number ≥ 0 (``None``:
        this schedule does not fit the story)."""
        today = self.today
        due_days = [due.due_on for due in dues]
        if story in OVERDUE_DAYS:
            low, high = OVERDUE_DAYS[story]
            for index, day in enumerate(due_days):
                if low <= (today - day).days <= high:
                    return index
            return None
        if story in ("recalled", "restructured"):
            # Some installments paid, then one missed at least 70 days before today, with
            # two installments after it (a restructuring needs some left).
            candidates = [
                i
                for i, day in enumerate(due_days[:-2])
                if i >= 2 and (today - day).days >= 70 and (today - due_days[i + 1]).days >= 40
            ]
            return self.random.choice(candidates) if candidates else None
        if story == "closed":
            return 0 if due_days[-1] < today else None
        return 0 if due_days[-1] >= today else None

    def _tell(
        self,
        story: str,
        plan: int,
        history: _History,
        states: list[InstallmentState],
        terms: Terms,
        built: dict[str, Any],
        *,
        loan_id: int,
    ) -> LoanStatus:
        pick = self.random
        today = self.today
        sometimes_late = pick.random() < 0.15
        if story in ("closed", "current"):
            prepay_at = (
                pick.randint(3, max(3, len(states) - 1))
                if story == "closed" and pick.random() < 0.2
                else None
            )
            for index in range(len(states)):
                day = states[index].due.due_on
                if day > today:
                    break
                if prepay_at is not None and index == prepay_at:
                    history.receive(states, terms, day, payoff(states, terms, day).total)
                    break
                if sometimes_late and pick.random() < 0.3:
                    late = day + dt.timedelta(days=pick.randint(1, 20))
                    following = states[index + 1].due.due_on if index + 1 < len(states) else late
                    if late < min(following, today):
                        history.pay_overdue(states, terms, late)
                        continue
                history.pay_installment(states, terms, index, day)
            return LoanStatus.ACTIVE
        # Paid on time up to the installment ``plan``, which is missed.
        for index in range(plan):
            history.pay_installment(states, terms, index, states[index].due.due_on)
        missed = states[plan]
        if story in OVERDUE_DAYS:
            if pick.random() < 0.3:  # a partial payment on the missed installment
                day = self._day_between(missed.due.due_on + dt.timedelta(days=5), today)
                share = Decimal(pick.choice((20, 30, 50, 70))) / 100_000
                part = (missed.principal_left * share).quantize(Decimal(1)) * 1000
                if missed.due.due_on < day <= today and 0 < part < missed.principal_left:
                    history.receive(states, terms, day, part)
            return LoanStatus.ACTIVE
        if story == "recalled":
            return history.recall(states, terms, built, plan)
        return history.restructure(states, terms, built, plan)

    def _first_inspection(
        self, rows: _Rows, loan_id: int, tranche_id: int, paid_on: dt.date, story: str
    ) -> None:
        pick = self.random
        due = paid_on + dt.timedelta(days=self.policy.first_inspection_days)
        done = due < self.today
        verdict = None
        if done:
            verdict = (
                "concerns" if story.startswith("overdue") and pick.random() < 0.3 else ("compliant")
            )
        visited = due - dt.timedelta(days=pick.randint(0, 10)) if done else None
        rows.add(
            Inspection, self._inspection_row(loan_id, "first", due, tranche_id, visited, verdict)
        )

    def _inspection_row(
        self,
        loan_id: int,
        kind: str,
        due: dt.date,
        tranche_id: int | None,
        visited: dt.date | None,
        verdict: str | None,
    ) -> dict[str, Any]:
        done = visited is not None
        words = {
            "compliant": "Vốn vay đã dùng đúng phương án; sản xuất ổn định.",
            "concerns": "Sản xuất chậm so với phương án; hợp tác xã thiếu vốn lưu động.",
            "misuse": "Vốn vay được dùng sai mục đích.",
        }
        return {
            "id": self.ids.take(Inspection),
            "loan_id": loan_id,
            "kind": kind,
            "status": "done" if done else "planned",
            "due_on": due,
            "tranche_id": tranche_id,
            "inspector_id": self.staff.inspector,
            "planned_at": _stamp(due - dt.timedelta(days=30)),
            "draft": {},
            "visited_on": visited,
            "people_met": "Chủ nhiệm và kế toán hợp tác xã" if done else "",
            "signatory": "Chủ nhiệm hợp tác xã" if done else "",
            "funds_use": {"compliant": "fully", "concerns": "partly", "misuse": "not"}.get(
                verdict or ""
            ),
            "progress_pct": {"compliant": 100, "concerns": 60, "misuse": 0}.get(verdict or ""),
            "business_status": words.get(verdict or "", ""),
            "verdict": verdict,
            "submitted_by_id": self.staff.inspector if done else None,
            "submitted_at": _stamp(visited, 16) if visited else None,
        }

    def pending_application(self, rows: _Rows, coop: dict[str, Any]) -> None:
        product, amount, term = self._pick_terms()
        status = self.random.choice(PENDING)
        submitted = self.today - dt.timedelta(days=self.random.randint(1, 40))
        self.application(
            rows,
            coop,
            product,
            amount=amount,
            term=term,
            status=status,
            submitted_on=submitted,
            decided_on=None,
        )

    def capital(self, rows: _Rows) -> None:
        """One contribution covering every synthetic disbursement, before the first."""
        if self.disbursed <= 0:
            return
        amount = -(-self.disbursed // 1_000_000_000) * 1_000_000_000
        day = self.first_day - dt.timedelta(days=30)
        source = "Ngân sách tỉnh và Liên minh HTX cấp bổ sung vốn điều lệ (synthetic)"
        entry_id = self._entry(
            rows,
            kind=EntryKind.CAPITAL_CONTRIBUTION,
            day=day,
            lines=[
                (Account.CASH, amount, Decimal(0)),
                (Account.FUND_CAPITAL, Decimal(0), amount),
            ],
            description=source,
            reference="QĐ bổ sung vốn (synthetic)",
            cooperative_id=None,
            loan_id=None,
            label=self.staff.admin_label,
            user_id=self.staff.admin,
        )
        rows.add(
            CapitalMovement,
            {
                "id": self.ids.take(CapitalMovement),
                "kind": "contribution",
                "status": "posted",
                "amount": amount,
                "value_date": day,
                "source": source,
                "reference": "QĐ bổ sung vốn (synthetic)",
                "requested_by_id": self.staff.admin,
                "requested_by_label": self.staff.admin_label,
                "requested_at": _stamp(day),
                "decided_by_id": self.staff.approver,
                "decided_by_label": "approver@demo.quyhtx.vn",
                "journal_entry_id": entry_id,
                "note": "",
            },
        )


class _History:
    """A loan's receipts and schedule changes, allocated as the services allocate them."""

    def __init__(
        self,
        generator: _Generator,
        rows: _Rows,
        *,
        loan_id: int,
        contract: str,
        coop_id: int,
        options: dict[str, Any],
    ) -> None:
        self.generator = generator
        self.options = options
        self.rows = rows
        self.loan_id = loan_id
        self.contract = contract
        self.coop_id = coop_id
        self.sequence = 0
        self.last_day: dt.date | None = None
        #: Nothing overdue, no penalty owed: an installment paid on its due date allocates
        #: to its interest and principal alone (the shortcut below; ``allocate`` otherwise).
        self.clean = True

    def pay_installment(
        self, states: list[InstallmentState], terms: Terms, index: int, day: dt.date
    ) -> None:
        """Pay installment ``index`` in full on ``day`` (its due date), and anything overdue."""
        state = states[index]
        if self.clean and day == state.due.due_on and state.principal_left >= 0:
            interest, principal = state.interest_left, state.principal_left
            if interest < 0 or interest + principal <= 0:
                return
            by_component: dict[Component, Decimal] = {}
            lines: list[tuple[int, Component, Decimal]] = []
            for component, value in (
                (Component.CURRENT_INTEREST, interest),
                (Component.CURRENT_PRINCIPAL, principal),
            ):
                if value > 0:
                    by_component[component] = value
                    lines.append((state.due.n, component, value))
            state.interest_paid += interest
            state.principal_paid += principal
            self._record(
                day,
                interest + principal,
                Allocation(day, interest + principal, by_component, tuple(lines)),
            )
            return
        owed = payoff(states, terms, day).by_component
        amount = (
            owed[Component.OVERDUE_PRINCIPAL]
            + owed[Component.OVERDUE_INTEREST]
            + owed[Component.PENALTY]
            + max(state.principal_left, Decimal(0))
            + max(state.interest_left, Decimal(0))
        )
        if amount > 0:
            self.receive(states, terms, day, amount)

    def pay_overdue(self, states: list[InstallmentState], terms: Terms, day: dt.date) -> None:
        """Pay everything overdue on ``day``, penalty included."""
        owed = payoff(states, terms, day).by_component
        amount = (
            owed[Component.OVERDUE_PRINCIPAL]
            + owed[Component.OVERDUE_INTEREST]
            + owed[Component.PENALTY]
        )
        if amount > 0:
            self.receive(states, terms, day, amount)

    def receive(
        self, states: list[InstallmentState], terms: Terms, day: dt.date, amount: Decimal
    ) -> None:
        """A receipt allocated by ``domain.repayments.allocate``."""
        allocation = allocate(states, terms, day, amount)
        self._record(day, amount, allocation)
        self.clean = all(
            state.principal_left <= 0
            and state.interest_left <= 0
            and round_money(state.penalty_accrued, terms.digits) <= state.penalty_paid
            for state in states
            if state.due.due_on <= day
        )

    def _record(self, day: dt.date, amount: Decimal, allocation: Allocation) -> None:
        generator, rows = self.generator, self.rows
        staff = generator.staff
        self.sequence += 1
        self.last_day = day
        reference = f"GBC {self.loan_id}-{self.sequence}"
        entry_id = generator._entry(
            rows,
            kind=EntryKind.REPAYMENT,
            day=day,
            lines=[
                (line.account, line.debit, line.credit) for line in _entry_lines(allocation, amount)
            ],
            description=generator.templates["repayment"] % {"contract": self.contract},
            reference=reference,
            cooperative_id=self.coop_id,
            loan_id=self.loan_id,
            label=staff.officer_label,
            user_id=staff.officer,
        )
        rows.add(
            Repayment,
            {
                "id": generator.ids.take(Repayment),
                "loan_id": self.loan_id,
                "sequence": self.sequence,
                "received_on": day,
                "amount": amount,
                "channel": "bank",
                "reference": reference,
                "idempotency_key": f"gen-{self.loan_id}-{self.sequence}",
                "status": "posted",
                "allocation": _allocation_json(allocation),
                "journal_entry_id": entry_id,
                "recorded_by_id": staff.officer,
                "recorded_by_label": staff.officer_label,
                "recorded_at": _stamp(day, 15),
            },
        )

    def _version(
        self,
        states: list[InstallmentState],
        terms: Terms,
        *,
        reason: str,
        day: dt.date,
        version_terms: dict[str, Any],
        installments: dict[str, Any],
        kept: int,
        settles: bool,
        accrues_from: dt.date | None,
    ) -> tuple[int, list[InstallmentState]]:
        """A schedule version from ``day``, and the states the replay moves onto."""
        row = {
            "id": self.generator.ids.take(ScheduleVersion),
            "loan_id": self.loan_id,
            "version": 2,
            "reason": reason,
            "effective_from": day,
            "after_sequence": self.sequence,
            "kept": kept,
            "settles": settles,
            "accrues_from": accrues_from,
            "terms": version_terms,
            "installments": installments,
            "created_at": _stamp(day, 11),
        }
        self.rows.add(ScheduleVersion, row)
        change: Change = loan_state._change(SimpleNamespace(**row), states, terms)  # type: ignore[arg-type]
        self.clean = False
        return row["id"], apply_change(states, terms, change)

    def recall(
        self, states: list[InstallmentState], terms: Terms, built: dict[str, Any], missed: int
    ) -> LoanStatus:
        """A ``misuse`` visit after the missed installment, and the recall it leads to."""
        generator = self.generator
        pick = generator.random
        visited = states[missed].due.due_on + dt.timedelta(days=pick.randint(10, 25))
        day = visited + dt.timedelta(days=10)
        inspection = generator._inspection_row(
            self.loan_id, "ad_hoc", visited, None, visited, "misuse"
        )
        self.rows.add(Inspection, inspection)
        basis = change_basis(states, terms, day, restructure=False)
        kept = built["installments"][: basis.kept]
        row = {
            "n": basis.kept + 1,
            "due_on": day.isoformat(),
            "principal": str(basis.principal),
            "interest": str(basis.interest),
            "total": str(basis.principal + basis.interest),
            "outstanding": "0",
            "carried": str(basis.interest),
        }
        rows = [*kept, row]
        version_id, states[:] = self._version(
            states,
            terms,
            reason="recall",
            day=day,
            version_terms={"recalled_on": day.isoformat()},
            installments={"installments": rows, "totals": loan_state._totals(rows)},
            kept=basis.kept,
            settles=False,
            accrues_from=None,
        )
        staff = generator.staff
        self.rows.add(
            Recall,
            {
                "id": generator.ids.take(Recall),
                "loan_id": self.loan_id,
                "inspection_id": inspection["id"],
                "status": "approved",
                "reason": "Vốn vay được dùng sai mục đích (biên bản kiểm tra).",
                "proposed_by_id": staff.officer,
                "proposed_at": _stamp(visited + dt.timedelta(days=2)),
                "decided_by_id": staff.approver,
                "decided_on": day,
                "decision_note": "Thu hồi nợ trước hạn.",
                "recall_on": day,
                "deadline_on": day + dt.timedelta(days=30),
                "principal_recalled": basis.principal,
                "interest_recalled": basis.interest,
                "schedule_version_id": version_id,
            },
        )
        return LoanStatus.RECALLED

    def restructure(
        self, states: list[InstallmentState], terms: Terms, built: dict[str, Any], missed: int
    ) -> LoanStatus:
        """Two installments missed, a rescheduling approved, and the new installments paid on
        time up to ``today``."""
        generator = self.generator
        pick = generator.random
        day = states[missed + 1].due.due_on + dt.timedelta(days=pick.randint(10, 25))
        basis = change_basis(states, terms, day, restructure=True)
        count = len(states) - basis.kept + 6
        first_due = add_months(day, 1)
        options = self.options
        engine_terms: dict[str, Any] = {
            **{name: options[name] for name in loan_state._KEPT_OPTIONS if name in options},
            "annual_rate_pct": str(terms.annual_rate_pct),
            "disbursed_on": day.isoformat(),
            "principal": str(basis.principal),
            "installments": count,
            "first_due_on": first_due.isoformat(),
        }
        installments = loan_state._merge(
            built["installments"][: basis.kept],
            loan_state._build(engine_terms),
            [basis.interest],
        )
        version_id, states[:] = self._version(
            states,
            terms,
            reason="restructuring",
            day=day,
            version_terms=engine_terms,
            installments=installments,
            kept=basis.kept,
            settles=True,
            accrues_from=day,
        )
        staff = generator.staff
        self.rows.add(
            Restructuring,
            {
                "id": generator.ids.take(Restructuring),
                "loan_id": self.loan_id,
                "status": "approved",
                "kind": "reschedule",
                "request_on": day - dt.timedelta(days=6),
                "request_reference": f"CV {self.loan_id}/HTX",
                "reason": "Thiên tai, mất mùa: hợp tác xã đề nghị giãn nợ.",
                "installments": count,
                "first_due_on": first_due,
                "proposed_by_id": staff.officer,
                "proposed_at": _stamp(day - dt.timedelta(days=4)),
                "decided_by_id": staff.approver,
                "decided_on": day,
                "decision_note": "Đồng ý giãn nợ.",
                "schedule_version_id": version_id,
            },
        )
        for index in range(basis.kept, len(states)):
            due_on = states[index].due.due_on
            if due_on > generator.today:
                break
            self.pay_installment(states, terms, index, due_on)
        return LoanStatus.ACTIVE


# --- writing -----------------------------------------------------------------------------------


def _write(session: Session, rows: _Rows, counts: Counter[str]) -> None:
    """Each table's rows in one executemany (Core: the column types still convert money)."""
    connection = session.connection()
    for model in TABLES:
        batch = rows.by_model[model]
        if batch:
            connection.execute(insert(model.__table__), batch)
            counts[model.__tablename__] += len(batch)


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: the ids were written explicitly, so move each table's sequence past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in TABLES:
        table = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  # nosec B608
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


def _cooperative_plan(generator: _Generator, loans: int) -> Iterator[list[str]]:
    """Each cooperative's loans' stories (1–3 loans each); the first nine loans tell every
    story once, so that even a small fund has them all."""
    stories, weights = list(STORIES), list(STORIES.values())
    made = 0
    while made < loans:
        size = min(generator.random.choice((1, 1, 2, 2, 3)), loans - made)
        plan = []
        for offset in range(size):
            number = made + offset
            plan.append(
                stories[number]
                if number < len(stories)
                else generator.random.choices(stories, weights=weights)[0]
            )
        made += size
        yield plan


def generate_fund(
    session: Session,
    *,
    loans: int,
    seed: int = 1,
    today: dt.date = DEMO_TODAY,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Add ``loans`` synthetic loans (and their cooperatives, applications, history, books and
    inspections) to a database holding the demo fund; returns the rows written by table, the
    loans by story and the seconds taken.

    Args:
        seed: the same seed on the same demo fund writes the same rows.
        today: the business date the history runs up to.
        progress: called with (loans written, loans asked for) after each batch.
    """
    started = time.perf_counter()
    generator = _Generator(session, seed=seed, today=today)
    counts: Counter[str] = Counter()
    rows = _Rows()
    made = pending_batch = 0
    for number, plan in enumerate(_cooperative_plan(generator, loans), start=1):
        _id, coop = generator.cooperative(rows, number)
        for story in plan:
            generator.loan(rows, coop, story)
        if generator.random.random() < 0.05:
            generator.pending_application(rows, coop)
        made += len(plan)
        pending_batch += len(plan)
        if pending_batch >= BATCH:
            _write(session, rows, counts)
            session.commit()
            rows, pending_batch = _Rows(), 0
            if progress is not None:
                progress(made, loans)
    generator.capital(rows)
    _write(session, rows, counts)
    _reset_sequences(session)
    # The journal was written around post_entry: each loan's balance on loans receivable is
    # counted from it once.
    recount_receivables(session)
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Planner statistics for the tables just filled, as autovacuum would gather them in a
        # while: without them the first measurements would time plans made blind.
        session.execute(text("ANALYZE"))
        session.commit()
    if progress is not None:
        progress(made, loans)
    return {
        "loans": made,
        "rows": dict(counts),
        "stories": dict(generator.stories),
        "schedules_built": len(generator.schedules),
        "seconds": time.perf_counter() - started,
    }
