"""Building blocks for application tests: a fund with capital and a product, a sound draft,
a complete dossier."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from loanfund.domain.access import SYSTEM, Actor
from loanfund.domain.applications import (
    ApplicationDraft,
    CashFlowLine,
    CollateralItem,
    CollateralKind,
    GuarantorItem,
)
from loanfund.domain.documents import DocumentKind, required_kinds
from loanfund.domain.products import PurposeCategory
from loanfund.models import LoanApplication, LoanProduct
from loanfund.services.applications import create_application, upload_document
from loanfund.services.file_store import FileStore
from loanfund.services.ledger import record_capital_contribution
from loanfund.services.products import create_product
from tests.conftest import TODAY
from tests.unit.test_products import EQUIPMENT

D = Decimal
#: A minimal PDF: what the dossier's files start with is what counts.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
#: The fund's capital in these tests: 25 bn VND, so one borrower may owe 15 % = 3.75 bn.
CAPITAL = D(25_000_000_000)


def fund_with_product(session: Any, **product_changes: Any) -> LoanProduct:
    """Capital paid in and the equipment product (100 m – 1 bn VND, 12–60 months, 5.4 %)."""
    record_capital_contribution(
        session,
        actor=SYSTEM,
        amount=CAPITAL,
        value_date=TODAY,
        source="Provincial budget",
        reference="QĐ 1",
        today=TODAY,
    )
    return create_product(session, actor=SYSTEM, terms=replace(EQUIPMENT, **product_changes))


def sound_draft(product_id: int, **changes: Any) -> ApplicationDraft:
    """300 m VND over 36 months for a 500 m project with 200 m (40 %) own equity; five years
    of 400 m revenue and 250 m costs; a workshop worth 600 m as collateral."""
    values: dict[str, Any] = {
        "product_id": product_id,
        "amount": D(300_000_000),
        "term_months": 36,
        "schedule_options": {"method": "equal_principal", "principal_every": 3},
        "purpose": PurposeCategory.EQUIPMENT,
        "purpose_description": "A peanut roasting machine and a packaging line.",
        "project_description": "Roasted peanuts for supermarkets in Huế and Đà Nẵng.",
        "project_cost": D(500_000_000),
        "own_equity": D(200_000_000),
        "members_benefiting": 40,
        "jobs_created": 6,
        "cash_flows": tuple(
            CashFlowLine(year, D(400_000_000), D(250_000_000)) for year in range(1, 6)
        ),
        "collateral": (
            CollateralItem(
                CollateralKind.BUILDING, "Workshop, 120 m²", "The cooperative", D(600_000_000)
            ),
        ),
        "guarantors": (GuarantorItem("Võ Văn Phú", "Chair", "0905 123 456"),),
        "unsecured_requested": False,
    }
    values.update(changes)
    return ApplicationDraft(**values)


def upload_dossier(
    session: Any, actor: Actor, application: LoanApplication, store: FileStore
) -> None:
    """One PDF for each required document."""
    for kind in sorted(required_kinds(None, secured=not application.unsecured_requested)):
        upload_document(
            session,
            actor=actor,
            application_id=application.id,
            kind=DocumentKind(kind),
            filename=f"{kind}.pdf",
            source=PDF,
            store=store,
            max_bytes=10 * 1024 * 1024,
        )


def draft_application(
    session: Any,
    representative: Actor,
    product: LoanProduct,
    store: FileStore | None,
    **changes: Any,
) -> LoanApplication:
    """A saved draft, with its dossier when a store is given."""
    application = create_application(
        session,
        actor=representative,
        cooperative_id=representative.cooperative_id,
        draft=sound_draft(product.id, **changes),
        today=TODAY,
    )
    if store is not None:
        upload_dossier(session, representative, application, store)
    return application


def store_at(path: Path) -> FileStore:
    return FileStore(path / "uploads")
