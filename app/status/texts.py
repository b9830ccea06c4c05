"""Texts in Finnish, Swedish and English, and the visible fallback when one is missing.

Editors write every title and update in each language; when a translation is missing the reader
gets another language *marked as such* (``LocalText.fallback``), never an empty line.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LANGUAGES = ("fi", "sv", "en")

# Kuulo's services as users think of them (codes are app.gate.COMPONENTS, in this order). Each one's
# reach is explicit: what closes with it and what stays open (shown under the editor's checkbox and as
# the component's description in /api/v2/components.json), so ticking one never leaves a surprise.
COMPONENT_NAMES: dict[str, dict[str, str]] = {
    "login": {"fi": "Kirjautuminen (verkkokirjasto ja lukusovellukset)",
              "sv": "Inloggning (webbiblioteket och läsappar)", "en": "Logging in (web library and reader apps)"},
    "search": {"fi": "Haku ja saatavuustiedot", "sv": "Sökning och tillgänglighet",
               "en": "Search and availability"},
    "web_library": {"fi": "Verkkokirjasto: lainaaminen verkossa, lainat ja omat tiedot",
                    "sv": "Webbiblioteket: lån på webben, lån och egna uppgifter",
                    "en": "Web library: borrowing on the web, loans and account"},
    "reader_apps": {"fi": "Lukusovellukset: lainaaminen ja palauttaminen sovelluksissa",
                    "sv": "Läsappar: lån och återlämning i apparna",
                    "en": "Reader apps: borrowing and returning in the apps"},
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
COMPONENT_CLOSES: dict[str, dict[str, str]] = {
    "login": {"fi": "Kirjautuminen verkkokirjastoon ja lukusovelluksen kirjautuminen uudella laitteella.",
              "sv": "Inloggning i webbiblioteket och inloggning i en läsapp på en ny enhet.",
              "en": "Logging in to the web library, and signing in a reader app on a new device."},
    "search": {"fi": "Aineistohaku ja uutuuksien selaaminen sovelluksissa (OPDS).",
               "sv": "Sökning i katalogen och bläddring bland nyheter i apparna (OPDS).",
               "en": "Searching the catalogue, and browsing new books in the apps (OPDS)."},
    "web_library": {"fi": "Äänikirjojen lainaaminen, uusiminen ja palauttaminen verkossa, varaukset, maksut ja "
                          "omat tiedot (niiden lukeminen voi jäädä auki).",
                    "sv": "Lån, förnyelse och återlämning av ljudböcker på webben, reservationer, avgifter och "
                          "kontosidorna (läsningen kan hållas öppen).",
                    "en": "Borrowing, renewing and returning audiobooks on the web, holds, fines and the account "
                          "pages (reading them can stay open)."},
    "reader_apps": {"fi": "Äänikirjojen lainaaminen, uusiminen ja palauttaminen lukusovelluksissa.",
                    "sv": "Lån, förnyelse och återlämning av ljudböcker i läsapparna.",
                    "en": "Borrowing, renewing and returning audiobooks in reader apps."},
    "registration": {"fi": "Uusien asiakkaiden rekisteröinti: kirjastonhoitajien lomake ja rekisteröinnin API.",
                     "sv": "Registrering av nya låntagare: bibliotekariernas formulär och registrerings-API:t.",
                     "en": "Registering new patrons: the librarians' form and the registration API."},
    "password_reset": {"fi": "Vaihtolinkin pyytäminen ja uuden salasanan tai PIN-koodin asettaminen.",
                       "sv": "Att be om en länk och att byta lösenord eller PIN-kod med den.",
                       "en": "Asking for a reset link, and setting a new password or PIN with it."},
    "institution_applications": {"fi": "Uusien hakemusten lähettäminen ja vastaaminen kirjaston kysymyksiin.",
                                 "sv": "Att skicka nya ansökningar och svara på bibliotekets frågor.",
                                 "en": "Sending new applications, and answering the library's questions."},
    "self_service": {"fi": "Lainaus ja palautus lainausautomaateilla (SIP2) sekä omatoimikirjastojen ovet.",
                     "sv": "Lån och återlämning i automaterna (SIP2) och dörrarna till meröppna bibliotek.",
                     "en": "Loans and returns at self-service stations (SIP2), and the doors of self-service "
                           "libraries."},
    "online_payment": {"fi": "Maksujen maksaminen verkossa.", "sv": "Betalning av avgifter på nätet.",
                       "en": "Paying fines online."},
    "cd_clubs": {"fi": "CD-kirjakerhoihin liittyminen ja eroaminen sekä osoitteen muuttaminen.",
                 "sv": "Att gå med i och lämna CD-bokklubbar och att byta adress.",
                 "en": "Joining and leaving CD book clubs, and changing the mailing address."},
}
COMPONENT_STAYS_OPEN: dict[str, dict[str, str]] = {
    "login": {"fi": "Jo kirjautuneet sovellukset ja selaimet, henkilökunnan kirjautuminen.",
              "sv": "Appar och webbläsare som redan är inloggade, personalens inloggning.",
              "en": "Apps and browsers already signed in; staff login."},
    "search": {"fi": "Lainat ja lainattujen kirjojen kuuntelu.", "sv": "Lån och lyssning på lånade böcker.",
               "en": "Loans, and listening to borrowed books."},
    "web_library": {"fi": "Jo lainattujen kirjojen kuuntelu; lainaaminen sovelluksissa (rastita myös "
                          "Lukusovellukset, jos sekin suljetaan).",
                    "sv": "Lyssning på redan lånade böcker; lån i apparna (kryssa även för Läsappar om också "
                          "det ska stängas).",
                    "en": "Listening to books already on loan; borrowing in the apps (tick Reader apps too if "
                          "that must close)."},
    "reader_apps": {"fi": "Ladattujen ja lainattujen kirjojen kuuntelu, lainalista, uuden laitteen kirjautuminen; "
                          "lainaaminen verkossa (rastita myös Verkkokirjasto, jos sekin suljetaan).",
                    "sv": "Lyssning på nedladdade och lånade böcker, lånelistan, inloggning på en ny enhet; lån "
                          "på webben (kryssa även för Webbiblioteket om också det ska stängas).",
                    "en": "Listening to downloaded and borrowed books, the loan list, signing in a new device; "
                          "borrowing on the web (tick Web library too if that must close)."},
    "registration": {"fi": "Kaikki muu: lainaaminen, kirjautuminen ja nykyisten asiakkaiden tiedot.",
                     "sv": "Allt annat: lån, inloggning och befintliga låntagares uppgifter.",
                     "en": "Everything else: borrowing, logging in and existing patrons' data."},
    "password_reset": {"fi": "Kirjautuminen nykyisellä salasanalla tai PIN-koodilla.",
                       "sv": "Inloggning med nuvarande lösenord eller PIN-kod.",
                       "en": "Logging in with the current password or PIN."},
    "institution_applications": {"fi": "Hakemusten käsittely (henkilökunta) ja lähetetyn hakemuksen lukeminen.",
                                 "sv": "Behandlingen av ansökningar (personalen) och att läsa en skickad ansökan.",
                                 "en": "Reviewing applications (staff), and reading an application already sent."},
    "self_service": {"fi": "Lainaaminen verkossa ja sovelluksissa, palvelutiskin lainaus.",
                     "sv": "Lån på webben och i apparna, lån vid disken.",
                     "en": "Borrowing on the web and in the apps; loans at the service desk."},
    "online_payment": {"fi": "Kaikki muu; maksut voi maksaa kirjastossa.",
                       "sv": "Allt annat; avgifter kan betalas på biblioteket.",
                       "en": "Everything else; fines can be paid at the library."},
    "cd_clubs": {"fi": "Omien kerhojen ja lähetysten lukeminen.", "sv": "Att läsa sina klubbar och utskick.",
                 "en": "Reading your clubs and mailings."},
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


def component_reach(code: str, language: str) -> tuple[str, str]:
    """(what closes, what stays open) with component ``code``, in ``language``."""
    return (pick(COMPONENT_CLOSES.get(code, {}), language).text,
            pick(COMPONENT_STAYS_OPEN.get(code, {}), language).text)
