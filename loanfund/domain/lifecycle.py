"""State machines: one transition table per entity and one function that applies it."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import TypeVar

from loanfund.domain.errors import InvalidTransition
from loanfund.domain.i18n import _

S = TypeVar("S", bound=enum.Enum)

#: ``{(from_status, action): to_status}``.
TransitionTable = Mapping[tuple[S, str], S]


def next_status(
    table: TransitionTable[S],
    current: S,
    action: str,
    *,
    label: str,
    describe: Callable[[S], str] | None = None,
) -> S:
    """The status an action leads to from ``current``, or :class:`InvalidTransition`.

    Args:
        table: the entity's transition table.
        current: its present status.
        action: what is being done (``"verify"``).
        label: how users name the action and the object, for the message
            (``"verify this cooperative"``).
        describe: how users name a status (defaults to its value).
    """
    try:
        return table[(current, action)]
    except KeyError:
        raise InvalidTransition(
            _(
                "Cannot %(action)s: its status is now “%(status)s”.",
                action=label,
                status=describe(current) if describe else str(current.value),
            )
        ) from None
