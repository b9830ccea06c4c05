"""Texts in Finnish, Swedish and English, and the visible fallback when one is missing.

Editors write every title and update in each language; when a translation is missing the reader
gets another language *marked as such* (``LocalText.fallback``), never an empty line.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LANGUAGES = ("fi", "sv", "en")

# Kuulo's services as shown on the status page (codes are app.gate.COMPONENTS, in this order).
COMPONENT_NAMES: dict[str, dict[str, str]] = {
    "login": {"fi": "Kirjautuminen", "sv": "Inloggning", "en": "Login"},
    "search": {"fi": "Haku ja saatavuustiedot", "sv": "Sökning och tillgänglighet",
               "en": "Search and availability"},
    "web_library": {"fi": "Verkkokirjasto ja omat tiedot", "sv": "Webbiblioteket och egna uppgifter",
                    "en": "Web library and patron account"},
    "reader_apps": {"fi": "Lukusovellukset ja e-kirjasto", "sv": "Läsappar och e-biblioteket",
                    "en": "Reader apps and e-library"},
    "registration": {"fi": "Asiakkaaksi rekisteröityminen", "sv": "Registrering av låntagare",
                     "en": "Patron registration"},
    "password_reset": {"fi": "Salasanan ja PIN-koodin vaihto", "sv": "Byte av lösenord och PIN-kod",
                       "en": "Password and PIN reset"},
    "institution_applications": {"fi": "Yhteisöasiakkaiden hakemukset", "sv": "Ansökningar från institutioner",
                                 "en": "Institution applications"},
    "self_service": {"fi": "Lainausautomaatit ja omatoimikirjastot",
                     "sv": "Självbetjäningsautomater och meröppna bibliotek",
                     "en": "Self-service stations and self-service libraries"},
    "online_payment": {"fi": "Verkkomaksaminen", "sv": "Betalning på nätet", "en": "Online payment"},
    "cd_clubs": {"fi": "CD-kirjakerhot", "sv": "CD-bokklubbar", "en": "CD book clubs"},
}


@dataclass(frozen=True)
class LocalText:
    text: str
    language: str  # the language the text is actually in
    fallback: bool  # True when it is not the language asked for

    def __str__(self) -> str:
        return self.text


def pick(texts: Mapping[str, str] | None, language: str, order: Iterable[str] = LANGUAGES) -> LocalText:
    """The text in ``language``, else the first one written in ``order`` (marked as a fallback)."""
    texts = texts or {}
    own = (texts.get(language) or "").strip()
    if own:
        return LocalText(own, language, False)
    for other in order:
        text = (texts.get(other) or "").strip()
        if text:
            return LocalText(text, other, True)
    return LocalText("", language, False)


def clean(texts: Mapping[str, str | None]) -> dict[str, str]:
    """Only the languages that were written, stripped."""
    return {lang: (texts.get(lang) or "").strip() for lang in LANGUAGES if (texts.get(lang) or "").strip()}


def component_name(code: str, language: str) -> str:
    return pick(COMPONENT_NAMES.get(code, {}), language).text or code
