"""The web side of authorization: who is acting, and the decorator every view uses.

The rules themselves live in ``domain.access`` (one table); this module only turns the
signed-in user into an :class:`~loanfund.domain.access.Actor` and calls them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask_security import auth_required, current_user

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import NotFound
from loanfund.domain.i18n import _
from loanfund.models import Cooperative, db
from loanfund.services.accounts import actor_for

F = TypeVar("F", bound=Callable[..., Any])


def current_actor() -> Actor:
    """The signed-in user as services see them."""
    return actor_for(current_user._get_current_object())  # type: ignore[attr-defined]


def permission_required(permission: Permission) -> Callable[[F], F]:
    """Sign-in required (anonymous → login page), then the role check (403)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            authorize(current_actor(), permission, cooperative_id=kwargs.get("cooperative_id"))
            return view(*args, **kwargs)

        return auth_required("session")(wrapped)  # type: ignore[return-value]

    return decorator


def load_cooperative(cooperative_id: int, permission: Permission) -> Cooperative:
    """The cooperative if the user may act on it: 404 for other cooperatives, 403 for roles."""
    authorize(current_actor(), permission, cooperative_id=cooperative_id)
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound(_("No such cooperative."))
    return cooperative
