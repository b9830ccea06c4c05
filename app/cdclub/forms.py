"""Forms for clubs and memberships. Labels are lazily translated; no queries here."""
from __future__ import annotations

from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.cdclub.service import Address, ClubData

try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice as choice
except ImportError:  # pragma: no cover - older WTForms

    def choice(value: str, label: Any) -> Any:  # type: ignore[no-redef]
        return (value, label)


REQUIRED = DataRequired(message=_l("This field is required."))


class ClubForm(FlaskForm):
    code = StringField(_l("Code"), [REQUIRED, Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", message=_l(
        "Use 2–40 lowercase letters, digits and hyphens, starting with a letter or digit."))],
        description=_l("A short identifier used on labels and in the API, e.g. dekkariklubi."))
    name_fi = StringField(_l("Name in Finnish"), [REQUIRED, Length(max=200)])
    name_sv = StringField(_l("Name in Swedish"), [REQUIRED, Length(max=200)])
    name_en = StringField(_l("Name in English"), [REQUIRED, Length(max=200)])
    description_fi = TextAreaField(_l("Description in Finnish"), [Optional(), Length(max=4000)])
    description_sv = TextAreaField(_l("Description in Swedish"), [Optional(), Length(max=4000)])
    description_en = TextAreaField(_l("Description in English"), [Optional(), Length(max=4000)])
    books_per_period = IntegerField(_l("Books per period"), [InputRequired(message=_l("This field is required.")),
                                                            NumberRange(1, 5, message=_l("A club sends 1–5 books per period."))],
                                    default=3, description=_l("At most 5."))
    disc_cap = IntegerField(_l("Disc cap per member per period"),
                            [InputRequired(message=_l("This field is required.")),
                             NumberRange(1, 99, message=_l("The disc cap is 1–99 discs."))], default=14,
                            description=_l("The period page warns when the picked books need more discs than this."))
    delivery_format = RadioField(_l("Delivery"), choices=[choice("cd", _l("CDs by post")),
                                                          choice("online", _l("online, on the reader-app shelf"))],
                                 default="cd", validators=[InputRequired(message=_l("Choose how the books are delivered."))])
    active = BooleanField(_l("The club takes members and produces runs"), default=True)

    def data_for_service(self) -> ClubData:
        return ClubData(code=self.code.data.strip(),
                        names={lang: getattr(self, f"name_{lang}").data or "" for lang in ("fi", "sv", "en")},
                        descriptions={lang: getattr(self, f"description_{lang}").data or ""
                                      for lang in ("fi", "sv", "en")},
                        books_per_period=self.books_per_period.data, disc_cap=self.disc_cap.data,
                        delivery_format=self.delivery_format.data, active=bool(self.active.data))


def country_choices(language: str) -> list[Any]:
    """Finland first, then every country by its name in the page's language."""
    names = Locale.parse(language).territories
    others = sorted(((code, str(name)) for code, name in names.items()
                     if len(code) == 2 and code.isalpha() and code not in ("FI", "ZZ", "QO", "EU", "EZ", "UN")),
                    key=lambda item: item[1])
    return [choice(code, name) for code, name in [("FI", str(names.get("FI", "Finland")))] + others]


class AddressForm(FlaskForm):
    recipient_name = StringField(_l("Name on the label"), [Optional(), Length(max=200)],
                                 description=_l("Leave empty to use the name on the library card."))
    address_extra = StringField(_l("c/o or other address line"), [Optional(), Length(max=200)])
    street_address = StringField(_l("Street address or PO box"), [Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), [Optional(), Length(max=20)])
    city = StringField(_l("Post office (town)"), [Optional(), Length(max=100)])
    country = SelectField(_l("Country"), default="FI")

    def __init__(self, *args: Any, language: str = "fi", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(language)

    def address(self) -> Address:
        return Address(*(getattr(self, name).data or "" for name in
                         ("recipient_name", "street_address", "address_extra", "postal_code", "city", "country")))

    def fill(self, address: Address) -> None:
        for name in ("recipient_name", "street_address", "address_extra", "postal_code", "city", "country"):
            getattr(self, name).data = getattr(address, name)

    def add_errors(self, messages: dict[str, list[str]]) -> bool:
        """Attach the service's field errors to the fields; True when every error found a field."""
        for name, texts in messages.items():
            target = getattr(self, name, None)
            if target is None:
                return False
            target.errors = list(target.errors) + texts
        return True


class PatronLookupForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    card = StringField(_l("Library card number"), [REQUIRED, Length(max=20)])


class TitleSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search the audiobook catalogue"), [Optional(), Length(max=200)],
                    description=_l("Title or author. Leave empty to list the newest books."))
