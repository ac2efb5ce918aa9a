"""Form fields and validators shared by every area."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectMultipleField, StringField, widgets
from wtforms.validators import ValidationError

from loanfund.config import currency_digits
from loanfund.web.formatting import number

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(form: Any, field: Field) -> None:
    """Refuse invisible control characters (they break printing and exports)."""
    data = field.data or ""
    if isinstance(data, str) and (
        _CONTROL.search(data) or any(unicodedata.category(ch) == "Cs" for ch in data)
    ):
        raise ValidationError(_l("Remove the invisible control characters from this field."))


def has_control_characters(text: str) -> bool:
    """Whether a posted text holds invisible control characters (line breaks and tabs aside),
    which the forms refuse: PostgreSQL stores no NUL, and they break printing and exports."""
    return bool(_CONTROL.search(text)) or any(unicodedata.category(ch) == "Cs" for ch in text)


def posted_id(raw: str) -> int | None:
    """A record number posted by a page (ASCII digits, within a database integer), or
    ``None``: ``"²"`` passes ``str.isdigit`` but not ``int``, and 10**40 fits no column."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def parse_locale_decimal(raw: str) -> Decimal:
    """A number as the reader writes it (``12.345.678`` or ``0,5`` in Vietnamese; plain digits
    with a dot always work). Raises ``ValueError`` with a message for the user."""
    text = raw.strip().replace("₫", "").replace("%", "").replace("\u00a0", " ").replace(" ", "")
    if len(text) > 40:
        raise ValueError(_l("This number is too long."))
    try:
        value = parse_decimal(text, locale=str(get_locale()), strict=True)
    except NumberFormatError:
        if not re.fullmatch(r"-?\d{1,30}(\.\d{1,20})?", text):
            raise ValueError(
                _l(
                    "“%(text)s” is not a number. Write digits only, e.g. %(example)s.",
                    text=raw[:40],
                    example=number(Decimal("12345678")),
                )
            ) from None
        value = Decimal(text)
    # Babel also accepts scientific notation ("1E30"); no amount or rate of a fund needs more
    # than 18 digits before the decimal point or 20 after it.
    if not value.is_finite() or value.adjusted() > 17:
        raise ValueError(_l("This number is too large."))
    if value != 0 and value.as_tuple().exponent < -20:  # type: ignore[operator]
        raise ValueError(_l("This number has too many decimals."))
    return value


class DecimalTextField(StringField):
    """A decimal number typed in the reader's locale; ``data`` is a ``Decimal`` or ``None``."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return number(self.data) if self.data is not None else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = parse_locale_decimal(valuelist[0])
        elif valuelist:
            # Only spaces typed: as if nothing were, so ``InputRequired`` asks for the number
            # instead of letting ``None`` through to the service.
            self.raw_data = [""]


class MoneyField(DecimalTextField):
    """An amount of the fund currency, typed as the reader writes numbers (``12.345.678``).

    ``data`` is a ``Decimal`` (or ``None``); what was typed is kept for re-rendering.
    """

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        minimum: Decimal = Decimal(0),
        maximum: Decimal = Decimal("999999999999999"),
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        amount = self.data
        if amount is None:
            return
        self.data = None
        text = valuelist[0][:40]
        currency = current_app.config["LOANFUND"]["FUND_CURRENCY"]
        digits = currency_digits(currency)
        if amount != amount.quantize(Decimal(1).scaleb(-digits)):
            if digits == 0:
                raise ValueError(
                    _l(
                        "Amounts in %(currency)s have no decimals; %(text)s was entered.",
                        currency=currency,
                        text=text,
                    )
                )
            raise ValueError(
                _l(
                    "Amounts in %(currency)s have at most %(digits)s decimals; "
                    "%(text)s was entered.",
                    currency=currency,
                    digits=digits,
                    text=text,
                )
            )
        if amount < self.minimum:
            raise ValueError(
                _l("The amount cannot be less than %(minimum)s.", minimum=number(self.minimum))
            )
        if amount > self.maximum:
            raise ValueError(
                _l("The amount cannot be more than %(maximum)s.", maximum=number(self.maximum))
            )
        self.data = amount


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
