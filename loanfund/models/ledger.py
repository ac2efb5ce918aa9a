"""The journal: the fund's books, from which every balance is derived (DESIGN §4).

Entries and lines are only ever inserted: a mistake is corrected by a reversing entry, so the
books show what happened and when. Triggers refuse UPDATE and DELETE on both databases, and
the ORM refuses them first (``models/append_only.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

from sqlalchemy import DDL, CheckConstraint, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.domain.ledger import Account, EntryKind
from loanfund.models.append_only import forbid_changes
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import Money, UTCDateTime, utcnow


class JournalEntry(Base):
    """One balanced money movement: its lines' debits equal their credits."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column_type(EntryKind, "entry_kind"), index=True)
    #: The day the money moved (the bank's value date), in the fund's time zone.
    value_date: Mapped[dt.date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text)
    #: The bank statement line, decision number or voucher this entry rests on.
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The cooperative concerned, if any (disbursements, repayments).
    cooperative_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cooperative.id"), index=True)
    #: The loan concerned, if any (disbursements, repayments).
    loan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("loan.id"), index=True)
    #: The entry this one reverses, if it is a correction.
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: The posting user's email at the time (``system`` for jobs and the demo).
    posted_by_label: Mapped[str] = mapped_column(String(255))

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.id", cascade="save-update, merge"
    )

    def __repr__(self) -> str:
        return f"<JournalEntry {self.id} {self.kind.value} {self.value_date}>"


class JournalLine(Base):
    """A debit or a credit of one account, in integer minor units."""

    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_not_negative"),
        CheckConstraint(
            "(debit = 0 AND credit > 0) OR (debit > 0 AND credit = 0)", name="one_side"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    account: Mapped[Account] = mapped_column(enum_column_type(Account, "account"), index=True)
    debit: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"<JournalLine {self.account.value} Dr {self.debit} Cr {self.credit}>"


#: The same triggers are created by the migration; these cover ``create_all`` (tests).
def _append_only(table: str) -> dict[str, list[str]]:
    message = f"the journal is append-only: correct {table} with a reversing entry"
    return {
        "sqlite": [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ],
        "postgresql": [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ],
    }


for _model in (JournalEntry, JournalLine):
    forbid_changes(_model)
    for _dialect, _statements in _append_only(_model.__tablename__).items():
        for _statement in _statements:
            event.listen(
                _model.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
            )


class AccountTotal(Base):
    """Every account's debits and credits over the journal's entries numbered up to
    ``through_entry_id``: a checkpoint written by the daily close, so that a balance is the
    checkpoint plus the few entries after it instead of a sum over every line ever posted.

    The journal is append-only, so a checkpoint stays true for ever; it is only inserted
    (``queries.ledger.account_totals`` reads the latest; ``services.ledger.record_totals``
    writes one).
    """

    __tablename__ = "account_total"

    through_entry_id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[Account] = mapped_column(enum_column_type(Account, "account"), primary_key=True)
    debit: Mapped[Decimal] = mapped_column(Money)
    credit: Mapped[Decimal] = mapped_column(Money)


forbid_changes(AccountTotal)


class CapitalMovement(Base):
    """Capital paid in or taken out: recorded by one person, approved and posted by another."""

    __tablename__ = "capital_movement"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('contribution', 'withdrawal')", name="kind"),
        CheckConstraint("status IN ('requested', 'posted', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``contribution`` or ``withdrawal``.
    kind: Mapped[str] = mapped_column(String(16))
    #: ``requested``, ``posted`` or ``cancelled``.
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    value_date: Mapped[dt.date] = mapped_column()
    source: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(120))
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    requested_by_label: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_by_label: Mapped[str] = mapped_column(String(255), default="")
    journal_entry_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("journal_entry.id"), unique=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
