"""Setting the fund up, and changing its settings and policy."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _
from loanfund.domain.policy import SPECS, build_policy
from loanfund.domain.roles import Role as RoleName
from loanfund.models import Role, Setting
from loanfund.queries.settings import stored_settings
from loanfund.services.audit import record_event


def initialize_fund(
    session: Session, *, actor: Actor, fund_name: str, currency: str, timezone: str
) -> bool:
    """Create the roles and the fund's first settings if missing; True if anything was added.

    Idempotent: an initialised database is left as it is, except that a currency different
    from the recorded one is refused (amounts are stored in its minor units).

    Raises:
        RuleViolation: the database records another currency.
    """
    added = False
    existing_roles = set(session.scalars(select(Role.name)))
    for role in RoleName:
        if role.value not in existing_roles:
            session.add(Role(name=role.value, description=role.name.title()))
            added = True
    stored = stored_settings(session)
    recorded_currency = stored.get("fund_currency")
    if recorded_currency and recorded_currency != currency:
        raise RuleViolation(
            _(
                "This database keeps its amounts in %(recorded)s, but the settings say "
                "%(configured)s. Set FUND_CURRENCY back to %(recorded)s.",
                recorded=recorded_currency,
                configured=currency,
            )
        )
    for key, value in (
        ("fund_currency", currency),
        ("fund_name", fund_name),
        ("fund_timezone", timezone),
    ):
        if key not in stored:
            session.add(Setting(key=key, value=value))
            added = True
    if added:
        record_event(
            session,
            actor=actor,
            action="fund.initialize",
            entity="fund",
            after={"fund_name": fund_name, "currency": currency, "timezone": timezone},
        )
    session.commit()
    return added


def update_fund_settings(
    session: Session,
    *,
    actor: Actor,
    fund_name: str,
    timezone: str,
    policy_values: Mapping[str, str],
    currency_digits: int,
) -> list[str]:
    """Change the fund's name, time zone and policy parameters; returns the changed keys.

    Every problem is reported at once; nothing is written unless all values are valid.

    Raises:
        NotPermitted: the actor may not manage settings.
        RuleViolation: listing every invalid value.
    """
    authorize(actor, Permission.MANAGE_SETTINGS)
    problems: list[str] = []
    name = fund_name.strip()
    if not name:
        problems.append(_("The fund needs a name."))
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(_("“%(zone)s” is not a known time zone.", zone=timezone[:60]))
    unknown = sorted(set(policy_values) - set(SPECS))
    if unknown:
        problems.append(_("Unknown policy parameters: %(keys)s.", keys=", ".join(unknown)))
    try:
        policy = build_policy(
            {key: value for key, value in policy_values.items() if key in SPECS},
            currency_digits=currency_digits,
        )
    except RuleViolation as error:
        problems.extend(error.problems)
        policy = None
    if problems:
        raise RuleViolation(problems)
    assert policy is not None

    wanted = {"fund_name": name, "fund_timezone": timezone}
    wanted.update({key: str(getattr(policy, key)) for key in SPECS})
    rows = {row.key: row for row in session.scalars(select(Setting))}
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for key, value in wanted.items():
        row = rows.get(key)
        current = row.value if row else (SPECS[key].default if key in SPECS else None)
        if current is not None and key in SPECS and _same_number(current, value):
            continue
        if current == value:
            continue
        before[key], after[key] = current or "", value
        if row:
            row.value = value
            row.updated_by_id = actor.user_id
        else:
            session.add(Setting(key=key, value=value, updated_by_id=actor.user_id))
    if after:
        record_event(
            session,
            actor=actor,
            action="settings.update",
            entity="settings",
            before=before,
            after=after,
        )
    session.commit()
    return sorted(after)


def _same_number(left: str, right: str) -> bool:
    try:
        return Decimal(left) == Decimal(right)
    except InvalidOperation:
        return left == right
