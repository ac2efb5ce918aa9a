"""One way to store an enum: its value as text, checked by a named CHECK constraint."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column_type(enum_class: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR column type holding ``enum_class`` values, with a CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )
