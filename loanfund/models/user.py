"""People who sign in, and their roles (Flask-Security's user and role models)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional

from flask_security import RoleMixin, UserMixin
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.models.base import Base
from loanfund.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from loanfund.models.cooperative import Cooperative

roles_users = Table(
    "roles_users",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base, RoleMixin):
    """A role (see ``domain.roles.Role`` for the names and ``domain.access`` for rights)."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of ``domain.roles.Role``'s values.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[Optional[str]] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"<Role {self.name}>"


class User(Base, UserMixin):
    """A person who signs in: fund staff, or a cooperative's representative (applicant)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Sign-in identity, stored normalised (lower case) by Flask-Security.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    #: Password hash (argon2); empty for an invited user who has not chosen a password yet.
    password: Mapped[Optional[str]] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Changing it signs the user out everywhere (Flask-Security).
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    #: Preferred interface language (``vi`` / ``en``); ``None`` follows the browser.
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    #: The user turned off emails that are not critical (reminders ahead of due dates…).
    quiet_emails: Mapped[bool] = mapped_column(default=False)
    #: The cooperative an applicant represents; ``None`` for staff.
    cooperative_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("cooperative.id", ondelete="RESTRICT"), index=True
    )
    phone: Mapped[Optional[str]] = mapped_column(String(32))

    # Trackable (Flask-Security).
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    current_login_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    last_login_ip: Mapped[Optional[str]] = mapped_column(String(64))
    current_login_ip: Mapped[Optional[str]] = mapped_column(String(64))
    login_count: Mapped[Optional[int]] = mapped_column()

    # Two-factor (Flask-Security).
    tf_primary_method: Mapped[Optional[str]] = mapped_column(String(64))
    tf_totp_secret: Mapped[Optional[str]] = mapped_column(String(255))
    tf_phone_number: Mapped[Optional[str]] = mapped_column(String(128))

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary=roles_users, lazy="selectin")
    cooperative: Mapped[Optional[Cooperative]] = relationship(
        back_populates="representatives", foreign_keys=[cooperative_id]
    )

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
