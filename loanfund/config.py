"""Settings: ``config/default.toml``, then a file named by ``LOANFUND_CONFIG``, then
``LOANFUND_*`` environment variables, then the overrides a caller passes (tests)."""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import babel
import babel.numbers

#: The checkout: the package's parent folder holds config/, templates/, migrations/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "config" / "default.toml"
ENV_PREFIX = "LOANFUND_"
#: Where uploaded documents go when ``UPLOAD_DIR`` is empty (the instance folder, never served).
DEFAULT_UPLOAD_DIR = PROJECT_ROOT / "instance" / "uploads"
#: Where exported workbooks go when ``EXPORT_DIR`` is empty (the instance folder, never served).
DEFAULT_EXPORT_DIR = PROJECT_ROOT / "instance" / "exports"
#: The folder the web server serves to anyone; uploads must never be inside it.
STATIC_DIR = PROJECT_ROOT / "loanfund" / "static"
_MIB = 1024 * 1024

#: Values that only a development machine may run with.
_SECRET_KEYS = ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "TOTP_SECRET")


class ConfigError(RuntimeError):
    """The settings cannot be used; the message lists every problem."""


def _coerce(key: str, text: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{ENV_PREFIX}{key} must be true or false, not {text!r}.")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a whole number, not {text!r}.") from None
    if isinstance(default, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """All settings as a dict of upper-case keys; unknown keys are refused."""
    environ = os.environ if environ is None else environ
    with DEFAULTS_FILE.open("rb") as handle:
        defaults = tomllib.load(handle)
    settings = dict(defaults)
    extra_file = environ.get(f"{ENV_PREFIX}CONFIG")
    if extra_file:
        with Path(extra_file).open("rb") as handle:
            extra = tomllib.load(handle)
        unknown = sorted(set(extra) - set(defaults))
        if unknown:
            raise ConfigError(f"Unknown settings in {extra_file}: {', '.join(unknown)}.")
        settings.update(extra)
    for key, default in defaults.items():
        value = environ.get(f"{ENV_PREFIX}{key}")
        if value is not None:
            settings[key] = _coerce(key, value, default)
    if overrides:
        settings.update(overrides)
    return settings


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Every problem with the settings, as sentences; empty when they can be used."""
    problems: list[str] = []
    if settings["ENV"] not in ("development", "production"):
        problems.append(f"ENV must be 'development' or 'production', not {settings['ENV']!r}.")
    if settings["ENV"] == "production":
        with DEFAULTS_FILE.open("rb") as handle:
            defaults = tomllib.load(handle)
        for key in _SECRET_KEYS:
            value = str(settings[key])
            if value == defaults[key] or len(value) < 32:
                problems.append(
                    f"{key} is the development default or shorter than 32 characters; set "
                    f"{ENV_PREFIX}{key} to a long random value before running in production."
                )
    currency = settings["FUND_CURRENCY"]
    if currency not in babel.numbers.list_currencies():
        problems.append(f"FUND_CURRENCY {currency!r} is not an ISO 4217 currency code.")
    try:
        zoneinfo.ZoneInfo(settings["FUND_TIMEZONE"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"FUND_TIMEZONE {settings['FUND_TIMEZONE']!r} is not a known time zone.")
    languages = settings["LANGUAGES"]
    for code in languages:
        try:
            babel.Locale.parse(code)
        except (ValueError, babel.UnknownLocaleError):
            problems.append(f"LANGUAGES has {code!r}, which is not a locale.")
    if settings["DEFAULT_LOCALE"] not in languages:
        problems.append(f"DEFAULT_LOCALE {settings['DEFAULT_LOCALE']!r} is not in LANGUAGES.")
    upload_mb, request_mb = settings["MAX_UPLOAD_MB"], settings["MAX_CONTENT_LENGTH_MB"]
    if not isinstance(upload_mb, int) or isinstance(upload_mb, bool) or upload_mb < 1:
        problems.append(
            f"MAX_UPLOAD_MB must be a whole number of megabytes, 1 or more, not {upload_mb!r}."
        )
    elif isinstance(request_mb, int) and upload_mb >= request_mb:
        problems.append(
            f"MAX_UPLOAD_MB ({upload_mb}) must be smaller than MAX_CONTENT_LENGTH_MB "
            f"({request_mb}), which bounds the whole request the file arrives in."
        )
    for key in ("SCHEDULER_CLOSE_TIME", "SCHEDULER_REMINDERS_TIME"):
        try:
            clock_time(settings[key])
        except ValueError:
            problems.append(f"{key} must be a time like 00:30, not {settings[key]!r}.")
    uploads = upload_dir(settings).resolve()
    if uploads.is_relative_to(STATIC_DIR.resolve()):
        problems.append(
            f"UPLOAD_DIR {str(uploads)!r} is inside the folder served to everyone "
            f"({STATIC_DIR}); choose a folder outside it."
        )
    exports = export_dir(settings).resolve()
    if exports.is_relative_to(STATIC_DIR.resolve()):
        problems.append(
            f"EXPORT_DIR {str(exports)!r} is inside the folder served to everyone "
            f"({STATIC_DIR}); choose a folder outside it."
        )
    threads = settings["EXPORT_THREADS"]
    if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= 4:
        problems.append(f"EXPORT_THREADS must be a whole number from 1 to 4, not {threads!r}.")
    keep = settings["EXPORT_KEEP_DAYS"]
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        problems.append(
            f"EXPORT_KEEP_DAYS must be a whole number of days, 1 or more, not {keep!r}."
        )
    return problems


def clock_time(text: str) -> tuple[int, int]:
    """``"07:30"`` → ``(7, 30)``; ValueError for anything else."""
    hours, minutes = (int(part) for part in str(text).split(":"))
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(text)
    return hours, minutes


def upload_dir(settings: Mapping[str, Any]) -> Path:
    """The folder for uploaded documents.

    ``UPLOAD_DIR`` when set (a relative path is taken from the checkout, not from the current
    folder), else :data:`DEFAULT_UPLOAD_DIR`. The folder is created by the file store, not here.
    """
    configured = str(settings["UPLOAD_DIR"]).strip()
    if not configured:
        return DEFAULT_UPLOAD_DIR
    path = Path(configured).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def export_dir(settings: Mapping[str, Any]) -> Path:
    """The folder for exported workbooks: ``EXPORT_DIR`` when set (a relative path is taken from
    the checkout), else :data:`DEFAULT_EXPORT_DIR`. Created by the export service."""
    configured = str(settings["EXPORT_DIR"]).strip()
    if not configured:
        return DEFAULT_EXPORT_DIR
    path = Path(configured).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def max_upload_bytes(settings: Mapping[str, Any]) -> int:
    """The largest uploaded document accepted, in bytes (``MAX_UPLOAD_MB`` megabytes)."""
    return int(settings["MAX_UPLOAD_MB"]) * _MIB


def currency_digits(code: str) -> int:
    """Minor-unit digits of a currency, from Babel's CLDR data (VND 0, USD 2)."""
    return babel.numbers.get_currency_precision(code)
