"""Czech (cs) for the patron: every message of the patron-facing pages (layout, login, My account and the
circulation account pages), the refusal texts they show and the circulation emails and notices has a Czech
translation that keeps the msgid's placeholders, and the compiled .mo says what the .po says. Staff pages
may stay fi/sv/en."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.navigation import PATRON_LINKS

ROOT = Path(__file__).resolve().parents[2]
CS = ROOT / "app" / "translations" / "cs" / "LC_MESSAGES"
TEMPLATES = ROOT / "app" / "templates"
PATRON_FILES = [
    TEMPLATES / "base.html", TEMPLATES / "macros" / "forms.html", TEMPLATES / "accounts" / "patron_login.html",
    TEMPLATES / "accounts" / "patron_account.html", TEMPLATES / "accounts" / "change_pin.html",
    *sorted((TEMPLATES / "circulation" / "account").glob("*.html")),
    *sorted((TEMPLATES / "notify" / "messages").glob("circulation_*.txt")),
    ROOT / "app" / "circulation" / "account_views.py", ROOT / "app" / "circulation" / "account_forms.py",
    ROOT / "app" / "circulation" / "api_json.py",
    *sorted((TEMPLATES / "lending").glob("*.html")), ROOT / "app" / "lending" / "views.py",  # e-lending pages
]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _catalogue():
    with (CS / "messages.po").open("rb") as f:
        return read_po(f, locale="cs")


def _msgids(path: Path) -> list[str]:
    method = "python" if path.suffix == ".py" else "jinja2"
    return [message for _line, message, _comments, _context in
            extract_from_file(method, str(path), keywords=KEYWORDS) if isinstance(message, str)]


def _patron_form_texts() -> list[str]:
    """Labels, hints and validator messages of the patron's own forms in accounts (login, PIN)."""
    from app.accounts import forms

    texts = []
    for form in (forms.PatronLoginForm, forms.ChangePinForm):
        for unbound in vars(form).values():
            if not hasattr(unbound, "field_class"):
                continue
            texts.append(str(unbound.args[0]._args[0]))
            if unbound.kwargs.get("description"):
                texts.append(str(unbound.kwargs["description"]._args[0]))
            for validator in (unbound.args[1] if len(unbound.args) > 1 else []):
                message = getattr(validator, "message", None)
                if message is not None and hasattr(message, "_args"):
                    texts.append(str(message._args[0]))
    return texts


def test_every_patron_facing_message_is_translated_into_czech(app):
    catalogue = _catalogue()
    texts = [msgid for path in PATRON_FILES for msgid in _msgids(path)] + _patron_form_texts()
    texts += [label._args[0] for _endpoint, label in PATRON_LINKS]  # the links on /account (msgids)
    assert "Library card number" in texts and "New PIN" in texts and "My audiobook loans" in texts
    missing = sorted({msgid for msgid in texts if msgid not in catalogue or not catalogue[msgid].string})
    assert not missing, f"cs: no translation for {missing}"


def test_czech_translations_keep_the_placeholders():
    wrong = [m.id for m in _catalogue() if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
             and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))]
    assert not wrong


def test_the_compiled_czech_catalogue_matches_the_po():
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def translated(value):
        return any(value) if isinstance(value, (list, tuple)) else bool(value)

    with (CS / "messages.mo").open("rb") as f:
        compiled = {key(m.id): key(m.string) for m in read_mo(f) if m.id and translated(m.string)}
    source = {key(m.id): key(m.string) for m in _catalogue() if m.id and translated(m.string)}
    assert {k: compiled.get(k) for k in source} == source  # (babel fills untranslated plurals with the msgid)
