"""Authorization in one place: what each role may do, and whose objects each user may see.

Function-level: :data:`ROLE_PERMISSIONS` maps roles to permissions. Object-level: an
applicant reaches only its own cooperative's records; anything else is reported as not
found (404), so the existence of other cooperatives' records is not revealed. A missing
permission on an object the user may see is "not permitted" (403).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from loanfund.domain.errors import NotFound, NotPermitted
from loanfund.domain.i18n import _
from loanfund.domain.roles import STAFF_ROLES, Role


class Permission(enum.StrEnum):
    """An action a user may be allowed to take."""

    VIEW_STAFF_HOME = "view_staff_home"
    VIEW_COOPERATIVE = "view_cooperative"  # object-level: own cooperative for applicants
    EDIT_COOPERATIVE = "edit_cooperative"  # object-level: own cooperative for applicants
    LIST_COOPERATIVES = "list_cooperatives"
    CREATE_COOPERATIVE = "create_cooperative"
    VERIFY_COOPERATIVE = "verify_cooperative"
    SUSPEND_COOPERATIVE = "suspend_cooperative"
    INVITE_REPRESENTATIVE = "invite_representative"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_SETTINGS = "view_settings"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_OUTBOX = "view_outbox"
    VIEW_BOOKS = "view_books"  # the journal and account balances
    RECORD_CAPITAL = "record_capital"
    APPROVE_CAPITAL = "approve_capital"  # post a capital movement someone else recorded
    MANAGE_PRODUCTS = "manage_products"
    VIEW_PRODUCTS = "view_products"
    APPLY = "apply"  # object-level: draft, submit, answer, withdraw for one's own cooperative
    VIEW_APPLICATION = "view_application"  # object-level: own cooperative for applicants
    LIST_APPLICATIONS = "list_applications"  # the staff queues
    APPRAISE = "appraise"
    DECIDE_APPLICATION = "decide_application"
    VIEW_LOAN = "view_loan"  # object-level: own cooperative for applicants
    MANAGE_LOANS = "manage_loans"  # contracts, tranche requests, posting payments
    APPROVE_DISBURSEMENT = "approve_disbursement"
    VIEW_INSPECTIONS = "view_inspections"  # the planned, due and done visits (staff)
    INSPECT = "inspect"  # record visits: the form, photos, the verdict
    PLAN_INSPECTIONS = "plan_inspections"  # assign inspectors, plan ad hoc visits


_P = Permission

#: What each role may do. A user's permissions are the union over the roles held.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.APPLICANT: frozenset(
        {
            _P.VIEW_COOPERATIVE,
            _P.EDIT_COOPERATIVE,
            _P.VIEW_PRODUCTS,
            _P.APPLY,
            _P.VIEW_APPLICATION,
            _P.VIEW_LOAN,
        }
    ),
    Role.OFFICER: frozenset(
        {
            _P.VIEW_STAFF_HOME,
            _P.VIEW_COOPERATIVE,
            _P.EDIT_COOPERATIVE,
            _P.LIST_COOPERATIVES,
            _P.CREATE_COOPERATIVE,
            _P.VERIFY_COOPERATIVE,
            _P.INVITE_REPRESENTATIVE,
            _P.VIEW_PRODUCTS,
            _P.VIEW_APPLICATION,
            _P.LIST_APPLICATIONS,
            _P.APPRAISE,
            _P.VIEW_LOAN,
            _P.MANAGE_LOANS,
            _P.VIEW_INSPECTIONS,
            _P.PLAN_INSPECTIONS,
        }
    ),
    Role.APPROVER: frozenset(
        {
            _P.VIEW_STAFF_HOME,
            _P.VIEW_COOPERATIVE,
            _P.LIST_COOPERATIVES,
            _P.VIEW_PRODUCTS,
            _P.VIEW_APPLICATION,
            _P.LIST_APPLICATIONS,
            _P.DECIDE_APPLICATION,
            _P.VIEW_LOAN,
            _P.APPROVE_DISBURSEMENT,
            _P.APPROVE_CAPITAL,
            _P.VIEW_BOOKS,
            _P.VIEW_INSPECTIONS,
        }
    ),
    Role.INSPECTOR: frozenset(
        {
            _P.VIEW_STAFF_HOME,
            _P.VIEW_COOPERATIVE,
            _P.LIST_COOPERATIVES,
            _P.VIEW_PRODUCTS,
            _P.VIEW_LOAN,
            _P.VIEW_INSPECTIONS,
            _P.INSPECT,
        }
    ),
    Role.ADMIN: frozenset(
        {
            _P.VIEW_STAFF_HOME,
            _P.VIEW_COOPERATIVE,
            _P.EDIT_COOPERATIVE,
            _P.LIST_COOPERATIVES,
            _P.CREATE_COOPERATIVE,
            _P.VERIFY_COOPERATIVE,
            _P.SUSPEND_COOPERATIVE,
            _P.INVITE_REPRESENTATIVE,
            _P.MANAGE_USERS,
            _P.MANAGE_SETTINGS,
            _P.VIEW_SETTINGS,
            _P.VIEW_AUDIT_LOG,
            _P.VIEW_OUTBOX,
            _P.VIEW_BOOKS,
            _P.RECORD_CAPITAL,
            _P.APPROVE_CAPITAL,
            _P.MANAGE_PRODUCTS,
            _P.VIEW_PRODUCTS,
            _P.VIEW_APPLICATION,
            _P.LIST_APPLICATIONS,
            _P.VIEW_LOAN,
            _P.VIEW_INSPECTIONS,
            _P.PLAN_INSPECTIONS,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            _P.VIEW_STAFF_HOME,
            _P.VIEW_COOPERATIVE,
            _P.LIST_COOPERATIVES,
            _P.VIEW_SETTINGS,
            _P.VIEW_AUDIT_LOG,
            _P.VIEW_BOOKS,
            _P.VIEW_PRODUCTS,
            _P.VIEW_APPLICATION,
            _P.LIST_APPLICATIONS,
            _P.VIEW_LOAN,
            _P.VIEW_INSPECTIONS,
        }
    ),
}
# The outbox holds sign-in and password-reset links, so only administrators read it.


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, as services see them (no web session, no ORM object).

    Attributes:
        user_id: the user's id, or ``None`` for the system (jobs, migrations).
        label: how the audit log names them (their email, or ``"system"``).
        roles: the roles held.
        cooperative_id: the cooperative an applicant belongs to; ``None`` for staff.
    """

    user_id: int | None
    label: str
    roles: frozenset[Role]
    cooperative_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def permissions(self) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


#: The actor for work nobody in particular does (scheduled jobs, demo loading, migrations).
SYSTEM = Actor(user_id=None, label="system", roles=frozenset(STAFF_ROLES))


def may_see_cooperative(actor: Actor, cooperative_id: int) -> bool:
    """True when the actor may know that this cooperative's records exist."""
    return actor.is_staff or actor.cooperative_id == cooperative_id


def authorize(actor: Actor, permission: Permission, *, cooperative_id: int | None = None) -> None:
    """Allow the action or raise: the single authorization check for every layer.

    Args:
        actor: who acts.
        permission: what they want to do.
        cooperative_id: the cooperative the object belongs to, for object-level checks.

    Raises:
        NotFound: the object belongs to a cooperative the actor may not see.
        NotPermitted: the actor may see the object but their roles do not allow the action.
    """
    if cooperative_id is not None and not may_see_cooperative(actor, cooperative_id):
        raise NotFound(_("No such page."))
    if not actor.can(permission):
        raise NotPermitted(_("Your role does not allow this action."))


def loan_list_scope(actor: Actor) -> int | None:
    """The cooperative whose loans and receipts the actor's lists (and their exports) hold:
    ``None``, every cooperative's, for staff; its own for a cooperative's representative.

    Raises:
        NotPermitted: the actor is neither staff nor a cooperative's representative (a list
            limited to no cooperative would hold every one's).
    """
    if actor.is_staff:
        return None
    if actor.cooperative_id is None:
        raise NotPermitted(_("Your role does not allow this action."))
    return actor.cooperative_id


def visit_list_scope(actor: Actor) -> int | None:
    """The inspector whose visits the actor's visit lists (and their exports) hold, with the
    visits no one is assigned yet: an inspector who does not plan visits sees theirs; ``None``,
    every visit, for the others."""
    if actor.can(Permission.INSPECT) and not actor.can(Permission.PLAN_INSPECTIONS):
        return actor.user_id
    return None
