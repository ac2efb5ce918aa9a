"""Forms of the exports area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from loanfund.web.fields import no_control_characters, strip_filter

#: Longer than any date typed in a form; anything longer is not a date.
_DATE_TEXT_MAX = 32


class RequestExportForm(FlaskForm):
    """Which export, and its date or period. The fields are text: the service reads the dates
    and says, in the user's words, what is wrong with them."""

    kind = StringField(_l("Export"), validators=[Length(max=32)], filters=[strip_filter])
    as_of = StringField(
        _l("As of"),
        validators=[Length(max=_DATE_TEXT_MAX), no_control_characters],
        filters=[strip_filter],
    )
    date_from = StringField(
        _l("From"),
        validators=[Length(max=_DATE_TEXT_MAX), no_control_characters],
        filters=[strip_filter],
    )
    period = StringField(
        _l("Period"),
        validators=[Length(max=_DATE_TEXT_MAX), no_control_characters],
        filters=[strip_filter],
    )
    date_to = StringField(
        _l("To"),
        validators=[Length(max=_DATE_TEXT_MAX), no_control_characters],
        filters=[strip_filter],
    )
