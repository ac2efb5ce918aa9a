"""Every user-visible string is in the Vietnamese catalog, translated, with its placeholders,
and the compiled catalog the app loads is up to date."""

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "loanfund" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _extracted() -> set[str]:
    found: set[str] = set()
    for folder, method in (("loanfund", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.*"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("domain", ["messages", "flask_security"])
def test_the_vietnamese_catalog_is_complete_and_keeps_placeholders(domain):
    catalog = _read(TRANSLATIONS / "vi" / "LC_MESSAGES" / f"{domain}.po")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string or message.fuzzy:
            problems.append(f"untranslated: {message.id!r}")
        elif sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ: {message.id!r}")
    assert problems == []


def test_every_string_in_the_code_and_templates_is_in_the_catalog():
    catalog = _read(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po")
    missing = sorted(message for message in _extracted() if message and message not in catalog)
    assert missing == [], "run the pybabel extract/update commands in README.md"


@pytest.mark.parametrize("domain", ["messages", "flask_security"])
def test_the_compiled_catalog_matches_the_source(domain):
    folder = TRANSLATIONS / "vi" / "LC_MESSAGES"
    catalog = _read(folder / f"{domain}.po")
    with (folder / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [m.id for m in catalog if m.id and compiled.gettext(m.id) != m.string]
    assert stale == [], "run: pybabel compile -d loanfund/translations"
