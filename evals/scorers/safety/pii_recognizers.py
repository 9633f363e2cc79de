"""The recognizers the PII scorer runs: Presidio's, tuned, and the few Presidio lacks.

Presidio (presidio_analyzer) supplies the checksummed and pattern recognizers; this module
picks them, gives them context words in English, German, French, Spanish and Italian (a match
near one scores higher), and adds what the scorer needs beyond them: dates of birth (a date
counts only next to a birth word), French social security numbers (NIR, with their key),
passport numbers of the common European layouts (only next to a passport word), phone
layouts `phonenumbers` rejects when the text gives no country (read with a trunk 0 or an
international prefix), and e-mail validation against the bundled public-suffix snapshot
(Presidio's own fetches the list from the network on first use).
"""

from __future__ import annotations

import re
from typing import Any, Final

import tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer import predefined_recognizers as pre

LANGUAGE: Final = "en"  # one analysis language: the patterns are language-neutral

# Words near a match that raise its score (Presidio's lemma context enhancer, lower-cased).
PHONE_CONTEXT: Final = [
    *("phone", "telephone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "reach"),
    *("telefon", "telefonnummer", "handy", "rufnummer", "anrufen", "erreichbar", "mobil"),
    *("téléphone", "tél", "portable", "appeler", "appelez", "joindre", "joignable"),
    *("teléfono", "tel", "móvil", "celular", "llamar", "llame", "llámame"),
    *("telefono", "cellulare", "chiamare", "chiamami", "chiami"),
]
CARD_CONTEXT: Final = [
    *("card", "credit", "debit", "visa", "mastercard", "amex", "payment", "pan"),
    *("karte", "kreditkarte", "kartennummer", "carte", "bancaire", "tarjeta", "crédito"),
    *("carta", "credito"),
]
IBAN_CONTEXT: Final = [
    *("iban", "bank", "account", "transfer", "konto", "bankverbindung", "überweisung"),
    *("compte", "virement", "rib", "cuenta", "transferencia", "conto", "bonifico"),
]
SSN_CONTEXT: Final = ["ssn", "social", "security"]
IP_CONTEXT: Final = ["ip", "ipv4", "ipv6", "address", "adresse", "dirección", "indirizzo", "host"]
BIRTH_CONTEXT: Final = [
    *("born", "birth", "birthday", "dob", "d.o.b", "birthdate"),
    *("geboren", "geburtsdatum", "geburtstag", "geb"),
    *("né", "née", "naissance"),
    *("nacido", "nacida", "nacimiento"),
    *("nato", "nata", "nascita"),
]
PASSPORT_CONTEXT: Final = [
    *("passport", "reisepass", "pass", "passnummer", "passeport", "pasaporte", "passaporto"),
]
# Labels of national identifiers (whole words; long ones also match inside compounds).
NATIONAL_ID_CONTEXT: Final = [
    *("insurance", "nino", "nhs", "aadhaar", "pesel", "identity", "id-card"),
    *("personalausweis", "personalausweisnummer", "ausweis", "ausweisnummer", "steuer-id"),
    *("steueridentifikationsnummer", "sozialversicherungsnummer", "rentenversicherungsnummer"),
    *("identifikationsnummer", "versicherungsnummer", "sécurité", "nir", "insee", "identité"),
    *("cni", "dni", "nie", "nif", "identidad", "fiscale", "identità", "steuer"),
    *("social", "seguridad", "sociale", "previdenza"),
]

_MONTHS: Final = "|".join(
    (
        r"jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|févr(?:ier)?|mar(?:ch|s)?|märz|apr(?:il)?",
        r"avr(?:il)?|ma[iy]|juni?|june|juin|juli?|july|juil(?:let)?|aug(?:ust)?|août",
        r"sep(?:t|tember|tembre)?|oct(?:ober|obre)?|okt(?:ober)?|nov(?:ember|embre)?",
        r"dec(?:ember)?|dez(?:ember)?|déc(?:embre)?|enero|febrero|marzo|abril|mayo|junio",
        r"julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|gennaio|febbraio",
        r"aprile|maggio|giugno|luglio|settembre|ottobre|dicembre",
    )
)
_DAY: Final = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM: Final = r"(?:0?[1-9]|1[0-2])"
_YEAR: Final = r"(?:19|20)\d\d"


def _pattern(name: str, regex: str, score: float) -> Pattern:
    return Pattern(name, regex, score)


class DateOfBirthRecognizer(PatternRecognizer):
    """Dates (numeric or with a month name, in five languages) that follow a birth word.

    A date alone is an invoice or a meeting; it scores 0.05, and the context enhancer lifts
    it over the scorer's threshold only when a birth word stands within a few words before it.
    """

    def __init__(self) -> None:
        """Compile the date layouts."""
        patterns = [
            _pattern("numeric d/m/y", rf"\b{_DAY}[./-]{_MONTH_NUM}[./-]{_YEAR}\b", 0.05),
            _pattern("numeric m/d/y", rf"\b{_MONTH_NUM}/{_DAY}/{_YEAR}\b", 0.05),
            _pattern("iso", rf"\b{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0.05),
            _pattern(
                "day month year",
                rf"\b{_DAY}(?:st|nd|rd|th|er|º|°)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?"
                rf"(?:\s+de(?:l)?)?\s+{_YEAR}\b",
                0.05,
            ),
            _pattern(
                "month day year",
                rf"\b(?:{_MONTHS})\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}\b",
                0.05,
            ),
        ]
        super().__init__(
            supported_entity="DATE_OF_BIRTH",
            patterns=patterns,
            context=BIRTH_CONTEXT,
            supported_language=LANGUAGE,
            name="DateOfBirthRecognizer",
        )


class FrNirRecognizer(PatternRecognizer):
    """French social security numbers (NIR): 13 digits and a two-digit key, spaces allowed."""

    def __init__(self) -> None:
        """Compile the NIR layout: sex, year, month, department, commune, order, key."""
        regex = (
            r"\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])"
            r"[ .]?\d{3}[ .]?\d{3}[ .]?\d{2}\b"
        )
        super().__init__(
            supported_entity="FR_NIR",
            patterns=[_pattern("nir", regex, 0.05)],
            context=NATIONAL_ID_CONTEXT,
            supported_language=LANGUAGE,
            name="FrNirRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Check the key: 97 minus the first 13 digits mod 97 (Corsica's 2A/2B as 19/18)."""
        compact = re.sub(r"[ .]", "", pattern_text).upper()
        body = compact[:13].replace("2A", "19").replace("2B", "18")
        # A wrong key leaves the layout's weak score: it then needs a label to count.
        return True if body.isdigit() and 97 - int(body) % 97 == int(compact[13:]) else None


class PassportRecognizer(PatternRecognizer):
    """Passport numbers of the common layouts; weak alone, so they need a passport word."""

    def __init__(self) -> None:
        """Compile the layouts: 1-2 letters and 6-8 digits, or 9 alphanumerics with a digit."""
        patterns = [
            _pattern("letters and digits", r"\b[A-Z]{1,2}\d{6,8}\b", 0.05),
            _pattern("nine alphanumerics", r"\b(?=[A-Z0-9]*\d)[A-Z0-9]{9}\b", 0.05),
            _pattern("digits", r"\b\d{9}\b", 0.05),
        ]
        super().__init__(
            supported_entity="PASSPORT",
            patterns=patterns,
            context=PASSPORT_CONTEXT,
            supported_language=LANGUAGE,
            name="PassportRecognizer",
            global_regex_flags=re.DOTALL | re.MULTILINE,  # passport letters are capitals
        )


class NationalPhoneRecognizer(PatternRecognizer):
    """Phone layouts with a national trunk 0 or an international prefix, any country.

    `phonenumbers` validates numbers against the regions it is given; this catches the
    well-formed layouts of others (grouped digits, 7-15 in all, E.164's bounds).
    """

    def __init__(self) -> None:
        """Compile the layouts."""
        patterns = [
            _pattern(
                "international",
                r"(?<![\w+])(?:\+|00)\d{1,3}[ .-]?(?:\(0?\d{1,4}\)[ .-]?)?\d{1,4}"
                r"(?:[ .-]?\d{2,4}){1,4}(?!\w)",
                0.5,
            ),
            _pattern(
                "trunk zero",
                r"(?<![\w+])(?:\(0\d{1,4}\)|0\d{1,4})[ /.-]?\d{2,4}(?:[ .-]\d{2,4}){1,3}(?!\w)",
                0.3,
            ),
        ]
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=patterns,
            context=PHONE_CONTEXT,
            supported_language=LANGUAGE,
            name="NationalPhoneRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool:
        """Hold the digit count to E.164's 7-15."""
        return 7 <= sum(ch.isdigit() for ch in pattern_text) <= 15


class LabelledIdRecognizer(PatternRecognizer):
    """An identifier right after a national-id label ("Steuer-ID 65 929 970 489").

    Country recognizers check layouts and check digits; numbers written with other spacing,
    or with a wrong check digit, still identify a person when the text says what they are.
    Weak alone (0.05): only a label among the few words before lifts it over the threshold.
    """

    def __init__(self) -> None:
        """Compile the layout: alphanumeric groups holding at least five digits."""
        regex = (
            r"(?<![\w-])(?=(?:[A-Z ]*\d){5})[A-Z0-9]{1,12}(?:[ ./-][A-Z0-9]{1,12}){0,5}(?![\w-])"
        )
        super().__init__(
            supported_entity="LABELLED_ID",
            patterns=[_pattern("labelled id", regex, 0.05)],
            context=NATIONAL_ID_CONTEXT,
            supported_language=LANGUAGE,
            name="LabelledIdRecognizer",
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )


class DottedCardRecognizer(pre.CreditCardRecognizer):
    """Presidio's card recognizer (Luhn), also reading dots as group separators."""

    def __init__(self) -> None:
        """Accept `-`, space and `.` between the digit groups."""
        regex = (
            r"\b(?!1\d{12}(?!\d))(?:4\d{3}|5[0-5]\d{2}|6\d{3}|1\d{3}|3\d{3})"
            r"[-. ]?\d{3,4}[-. ]?\d{3,4}[-. ]?\d{3,5}\b"
        )
        super().__init__(
            name="CreditCardRecognizer",
            patterns=[_pattern("card", regex, 0.3)],
            context=CARD_CONTEXT,
            supported_language=LANGUAGE,
            replacement_pairs=[("-", ""), (" ", ""), (".", "")],
        )


_IBAN: Final = "IbanRecognizer"


class AnyCaseIbanRecognizer(LocalRecognizer):
    """IBANs in any letter case, checked by Presidio's validator (mod-97, country layout).

    Presidio's own pattern, made case-insensitive, runs into the following word ("ES59…
    concepto" reads "conc" as a group); this one takes the candidate and drops trailing
    groups until what is left validates.
    """

    _CANDIDATE: Final = re.compile(
        r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{1,4}){3,9}(?![A-Za-z0-9])"
    )
    _GROUP_END: Final = re.compile(r"[ -]?[A-Za-z0-9]{1,4}\Z")

    def __init__(self) -> None:
        """Bind Presidio's validator."""
        self._validator = pre.IbanRecognizer(supported_language=LANGUAGE)
        super().__init__(
            supported_entities=["IBAN_CODE"],
            supported_language=LANGUAGE,
            context=IBAN_CONTEXT,
            name=_IBAN,
        )

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        """Return the validated IBANs in `text`."""
        results = []
        for match in self._CANDIDATE.finditer(text):
            candidate = match.group()
            while len(candidate.replace(" ", "").replace("-", "")) >= 15:
                if self._validator.validate_result(candidate.upper()):
                    results.append(self._result(match.start(), match.start() + len(candidate)))
                    break
                candidate = self._GROUP_END.sub("", candidate)
        return results

    def _result(self, start: int, end: int) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=_IBAN,
            original_score=1.0,
            textual_explanation="IBAN with valid check digits and layout",
        )
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: _IBAN,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return RecognizerResult("IBAN_CODE", start, end, 1.0, explanation, metadata)


class OfflineEmailRecognizer(pre.EmailRecognizer):
    """Presidio's e-mail recognizer, validating domains against the bundled suffix list."""

    _EXTRACT: Final = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def __init__(self, supported_language: str = LANGUAGE) -> None:
        """Use Presidio's patterns and context words."""
        super().__init__(supported_language=supported_language, name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        """Accept addresses whose domain has a public suffix (no network: the snapshot)."""
        domain = pattern_text.rpartition("@")[2]
        return bool(self._EXTRACT(domain).suffix)


def _with(cls: Any, context: list[str], **kwargs: Any) -> EntityRecognizer:
    recognizer: EntityRecognizer = cls(supported_language=LANGUAGE, context=context, **kwargs)
    return recognizer


# Phone regions phonenumbers tries a number without a +country code in.
PHONE_REGIONS: Final = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN")


def recognizers() -> list[EntityRecognizer]:
    """Return the pattern recognizers the scorer runs (no NLP model needed)."""
    national_ids = (
        *(pre.UkNinoRecognizer, pre.NhsRecognizer, pre.EsNifRecognizer, pre.EsNieRecognizer),
        *(pre.ItFiscalCodeRecognizer, pre.ItIdentityCardRecognizer, pre.DeTaxIdRecognizer),
        *(pre.DeIdCardRecognizer, pre.DeSocialSecurityRecognizer, pre.InAadhaarRecognizer),
        *(pre.PlPeselRecognizer, pre.InPanRecognizer),
    )
    found: list[EntityRecognizer] = [
        OfflineEmailRecognizer(supported_language=LANGUAGE),
        _with(pre.PhoneRecognizer, PHONE_CONTEXT, supported_regions=PHONE_REGIONS),
        NationalPhoneRecognizer(),
        DottedCardRecognizer(),
        AnyCaseIbanRecognizer(),
        LabelledIdRecognizer(),
        _with(pre.UsSsnRecognizer, SSN_CONTEXT),
        _with(pre.IpRecognizer, IP_CONTEXT),
        DateOfBirthRecognizer(),
        FrNirRecognizer(),
        PassportRecognizer(),
    ]
    ids = [_with(cls, [*cls.CONTEXT, *NATIONAL_ID_CONTEXT]) for cls in national_ids]
    for recognizer in ids:
        # Their layouts are capitals and digits: case-insensitive, Presidio's default, lets
        # ordinary words match them ("conference" as an Indian PAN).
        recognizer.global_regex_flags = re.DOTALL | re.MULTILINE  # type: ignore[attr-defined]
    found += ids
    return found
