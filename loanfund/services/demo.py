"""Loading the demo fund through the same services users go through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.access import SYSTEM
from loanfund.domain.cooperatives import CooperativeProfile, LegalType
from loanfund.domain.products import ProductTerms, PurposeCategory
from loanfund.domain.roles import Role
from loanfund.models import User
from loanfund.services import demo_data
from loanfund.services.accounts import NewUser, create_user
from loanfund.services.cooperatives import change_cooperative_status, create_cooperative
from loanfund.services.ledger import record_capital_contribution
from loanfund.services.products import create_product


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    name: str


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def load_demo_fund(
    session: Session, *, hash_password: Callable[[str], str], today: dt.date
) -> list[DemoLogin]:
    """Create the demo staff, the fund's capital, cooperatives and representatives; returns
    the logins.

    Args:
        hash_password: Flask-Security's password hasher (passed in: services have no Flask).
        today: the business date the profiles are checked against.
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
    return logins
