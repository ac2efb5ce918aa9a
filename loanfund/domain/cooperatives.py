"""Cooperatives: who may borrow, their verification lifecycle, and profile checks."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from loanfund.domain.i18n import _, fmt_date, fmt_number
from loanfund.domain.lifecycle import TransitionTable


class LegalType(enum.StrEnum):
    """Eligible kinds of borrower (DESIGN §3: cooperatives and their groups, not enterprises)."""

    COOPERATIVE = "cooperative"
    COOPERATIVE_UNION = "cooperative_union"
    GROUP_MEMBER = "group_member"


def legal_type_label(legal_type: LegalType) -> str:
    return {
        LegalType.COOPERATIVE: _("Cooperative"),
        LegalType.COOPERATIVE_UNION: _("Cooperative union"),
        LegalType.GROUP_MEMBER: _("Member of a cooperative group"),
    }[LegalType(legal_type)]


class CooperativeStatus(enum.StrEnum):
    """Verification status: only a ``verified`` cooperative may apply for loans."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


_S = CooperativeStatus

COOPERATIVE_TRANSITIONS: TransitionTable[CooperativeStatus] = {
    (_S.PENDING, "verify"): _S.VERIFIED,
    (_S.PENDING, "reject"): _S.REJECTED,
    (_S.REJECTED, "resubmit"): _S.PENDING,
    (_S.VERIFIED, "suspend"): _S.SUSPENDED,
    (_S.SUSPENDED, "reinstate"): _S.VERIFIED,
}

#: Vietnamese tax codes: 10 digits, or 10 digits, a hyphen and 3 digits for a branch.
TAX_CODE_PATTERN = re.compile(r"^\d{10}(-\d{3})?$")
#: Registration numbers: letters, digits, hyphens, slashes and dots, 3 to 30 characters.
REGISTRATION_NO_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z./-]{2,29}$")
#: Phone numbers: an optional +, then digits, spaces, dots and hyphens, 8 to 15 digits in all.
PHONE_PATTERN = re.compile(r"^\+?[0-9 .-]{8,20}$")


@dataclass(frozen=True, slots=True)
class CooperativeProfile:
    """What a cooperative tells the fund about itself (the editable part of the record)."""

    name: str
    legal_type: LegalType
    registration_no: str
    tax_code: str
    province: str
    district: str
    address: str
    sector: str
    founded_on: dt.date
    members_count: int
    women_members: int
    ethnic_minority_members: int
    charter_capital: Decimal
    contact_name: str
    contact_phone: str
    contact_email: str


def check_profile(profile: CooperativeProfile, *, today: dt.date) -> list[str]:
    """Every problem with a cooperative profile, as sentences with the numbers.

    Syntax (required fields, lengths) is the form's job; this checks meaning.
    """
    problems: list[str] = []
    if not TAX_CODE_PATTERN.match(profile.tax_code):
        problems.append(
            _(
                "The tax code must be 10 digits, or 10 digits, a hyphen and 3 digits "
                "(e.g. 3301234567 or 3301234567-001)."
            )
        )
    if not REGISTRATION_NO_PATTERN.match(profile.registration_no):
        problems.append(
            _(
                "The registration number may contain only letters, digits, '.', '/' and '-' "
                "(3 to 30 characters)."
            )
        )
    if profile.contact_phone and not PHONE_PATTERN.match(profile.contact_phone):
        problems.append(
            _("The phone number should contain 8 to 15 digits (a leading + is allowed).")
        )
    if profile.founded_on > today:
        problems.append(
            _(
                "The founding date %(founded)s is in the future.",
                founded=fmt_date(profile.founded_on),
            )
        )
    if profile.members_count < 1:
        problems.append(_("A cooperative has at least one member."))
    for count, label in (
        (profile.women_members, _("Women members")),
        (profile.ethnic_minority_members, _("Ethnic-minority members")),
    ):
        if count < 0:
            problems.append(_("%(label)s cannot be negative.", label=label))
        elif count > profile.members_count:
            problems.append(
                _(
                    "%(label)s (%(count)s) cannot exceed the number of members (%(members)s).",
                    label=label,
                    count=fmt_number(count),
                    members=fmt_number(profile.members_count),
                )
            )
    if profile.charter_capital < 0:
        problems.append(_("Charter capital cannot be negative."))
    return problems
