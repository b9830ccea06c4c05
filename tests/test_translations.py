"""The Finnish and Swedish catalogues are complete, keep the msgid's placeholders, and the compiled
.mo files hold exactly what the .po files say (compared by content, not by mtime, so a fresh clone
with committed .mo files passes and a stale .mo fails). scripts/i18n.sh update / compile fix most
failures here; scripts/i18n.sh check lists untranslated messages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "app" / "translations"
LANGUAGES = ("fi", "sv")

# A %-style placeholder as Python's % operator reads it: %(name)s, %(count)d, %(x).2f …
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _po(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _mo_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def _messages(catalog: Catalog) -> list:
    return [m for m in catalog if m.id]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_header_names_the_language_encoding_and_plural_rule(lang):
    catalog = _po(lang)
    headers = dict(catalog.mime_headers)
    assert headers["Language"] == lang
    assert "charset=utf-8" in headers["Content-Type"].lower()
    assert headers["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_a_reviewed_translation(lang):
    catalog = _po(lang)
    messages = _messages(catalog)
    assert messages, f"{lang}: the catalogue is empty"
    untranslated = [m.id for m in messages if not all(s.strip() for s in _strings(m))]
    assert not untranslated, f"{lang}: no translation for {untranslated}"
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (unreviewed, not compiled) translations for {fuzzy}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_has_every_message_of_the_template(lang):
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = read_po(f)
    catalog = _po(lang)
    missing = [m.id for m in template if m.id and m.id not in catalog]
    assert not missing, f"{lang}: run scripts/i18n.sh update; missing {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_msgid(lang):
    wrong = []
    for message in _messages(_po(lang)):
        expected = set().union(*(_placeholders(i) for i in _ids(message)))
        for string in _strings(message):
            if _placeholders(string) != expected:
                wrong.append((message.id, string))
    assert not wrong, f"{lang}: placeholders differ from the msgid in {wrong}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_can_be_formatted(lang):
    # flask_babel formats with `string % variables`: a stray "%" would raise at render time.
    for message in _messages(_po(lang)):
        names = set().union(*(PLACEHOLDER.findall(i) for i in _ids(message)))
        if not names:
            continue
        for string in _strings(message):
            string % {name: 1 for name in names}  # raises on a broken format


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(lang):
    path = _mo_path(lang)
    assert path.is_file(), f"{path} is missing: run scripts/i18n.sh compile"
    with path.open("rb") as f:
        compiled = read_mo(f)
    # pybabel compile leaves out fuzzy and empty translations; the tests above flag those.
    def key(m):
        return tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id

    def value(m):
        return tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string

    expected = {key(m): value(m) for m in _messages(_po(lang)) if not m.fuzzy and all(_strings(m))}
    actual = {key(m): value(m) for m in _messages(compiled)}
    missing = sorted(set(expected) - set(actual), key=str)
    extra = sorted(set(actual) - set(expected), key=str)
    changed = sorted((k for k in set(expected) & set(actual) if expected[k] != actual[k]), key=str)
    assert not (missing or extra or changed), (
        f"{path} is older than the .po file (run scripts/i18n.sh compile): "
        f"missing {missing}, no longer in the .po {extra}, translation changed {changed}"
    )
    assert compiled.plural_forms == "nplurals=2; plural=(n != 1);"
