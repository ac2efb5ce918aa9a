"""The declarative base, the metadata naming convention and the Flask-SQLAlchemy handle."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Constraint names are predictable, so migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model: typed columns (``Mapped[...]``) and the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Bound to the app in the factory; services receive ``db.session`` as an argument.
db = SQLAlchemy(model_class=Base)
