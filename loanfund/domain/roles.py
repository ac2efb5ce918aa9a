"""Who may use the system, and as what (DESIGN §1)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A role a user holds. Staff may hold several; an applicant holds only ``APPLICANT``."""

    APPLICANT = "applicant"
    OFFICER = "officer"
    APPROVER = "approver"
    INSPECTOR = "inspector"
    ADMIN = "admin"
    AUDITOR = "auditor"


#: Roles of the fund's own people (everyone but the cooperatives' representatives).
STAFF_ROLES: frozenset[Role] = frozenset(Role) - {Role.APPLICANT}


def check_role_combination(
    roles: frozenset[Role] | set[Role], *, has_cooperative: bool
) -> list[str]:
    """Every problem with giving a user these roles, as sentences (empty when fine).

    An applicant belongs to exactly one cooperative and holds no staff role; staff belong to no
    cooperative (DESIGN §1).
    """
    from loanfund.domain.i18n import _

    problems: list[str] = []
    if not roles:
        problems.append(_("A user needs at least one role."))
    if Role.APPLICANT in roles:
        if roles & STAFF_ROLES:
            problems.append(
                _(
                    "A cooperative's representative cannot also hold a staff role; "
                    "use a separate account for fund work."
                )
            )
        if not has_cooperative:
            problems.append(_("A cooperative's representative must belong to a cooperative."))
    elif has_cooperative:
        problems.append(_("Staff accounts do not belong to a cooperative."))
    return problems
