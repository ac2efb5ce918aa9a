"""Emails the web layer asks services to queue, rendered in the fund's default language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_security.recoverable import generate_reset_password_token

from loanfund.domain.notifications import notice_text
from loanfund.models import Cooperative, User
from loanfund.services.outbox import Email


def _public_url(endpoint: str, **values: object) -> str:
    base = current_app.config["LOANFUND"]["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def _default_locale() -> str:
    return current_app.config["LOANFUND"]["DEFAULT_LOCALE"]


def cooperative_status_notice(action: str):
    """A builder of the email telling representatives what the fund decided."""

    def build(cooperative: Cooperative) -> Email:
        with force_locale(_default_locale()):
            subjects = {
                "verify": _("Your cooperative has been verified"),
                "reject": _("Your cooperative's registration needs changes"),
                "resubmit": _("Registration sent for verification again"),
                "suspend": _("Your cooperative has been suspended"),
                "reinstate": _("Your cooperative has been reinstated"),
            }
            body = render_template(
                "email/cooperative_status.txt",
                cooperative=cooperative,
                action=action,
                link=_public_url("cooperatives.detail", cooperative_id=cooperative.id),
            )
            return Email(subject=subjects[action], body_text=body)

    return build


def invitation(cooperative: Cooperative):
    """A builder of the invitation email with a link to choose a password."""

    def build(user: User) -> Email:
        token = generate_reset_password_token(user)
        with force_locale(_default_locale()):
            body = render_template(
                "email/invitation.txt",
                user=user,
                cooperative=cooperative,
                link=_public_url("security.reset_password", token=token),
            )
            return Email(
                subject=_("Invitation to the cooperative support fund's online services"),
                body_text=body,
            )

    return build


def staff_signup_notice(cooperative_name: str) -> Email:
    with force_locale(_default_locale()):
        body = render_template(
            "email/staff_signup.txt",
            name=cooperative_name,
            link=_public_url("cooperatives.list_cooperatives", status="pending"),
        )
        return Email(subject=_("A cooperative signed up and awaits verification"), body_text=body)


def notice_email(user: User, kind: Any, params: Mapping[str, Any], link: str) -> Email:
    """The email of an in-app notice, in the recipient's language (or the fund's)."""
    base = current_app.config["LOANFUND"]["PUBLIC_BASE_URL"].rstrip("/")
    with force_locale(user.locale or _default_locale()):
        text = notice_text(kind, params)
        body = render_template(
            "email/notice.txt", user=user, text=text, link=base + link if link else ""
        )
        return Email(subject=text, body_text=body)
