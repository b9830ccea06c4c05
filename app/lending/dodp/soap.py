"""SOAP 1.1 for the DAISY Online endpoint: reading a request safely, writing answers and faults.

Requests are parsed with lxml with every dangerous feature off (no entity expansion, no DTD loading, no
network, no huge trees) and a size limit; a document type declaration is refused outright (SOAP 1.1 and
the WS-I Basic Profile forbid it). So a billion-laughs or external-entity body gets a fault at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DO = "http://www.daisy.org/ns/daisy-online/"
BOOKMARK = "http://www.daisy.org/z3986/2005/bookmark/"
DC = "http://purl.org/dc/elements/1.1/"
XML = "http://www.w3.org/XML/1998/namespace"
V2_ACTION = "urn:http://www.daisy.org/ns/daisy-online/"
MAX_BODY = 256 * 1024  # bytes: the largest request a player sends is a bookmark set
NSMAP = {"s": SOAP_ENV, "do": DO}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                          dtd_validation=False, remove_pis=True, collect_ids=False)


class Fault(Exception):
    """A fault the specification names: ``kind`` is e.g. "noActiveSession" (the element is kind + "Fault").

    ``reason`` is a lazy translation (``_l``): it is worded in the patron's language when the fault is
    written (``fault_document``), since a fault may be raised before the session, and so the language, is
    known."""

    def __init__(self, kind: str, reason: Any, client: bool = True) -> None:
        super().__init__(kind)
        self.kind, self.reason, self.client = kind, reason, client


def invalid(reason: Any) -> Fault:
    """An invalidParameter fault: the commonest refusal."""
    return Fault("invalidParameter", reason)


@dataclass(frozen=True)
class Request:
    operation: str  # the body element's local name: "logOn", "getContentList" …
    element: Any  # that element
    action: str  # the SOAPAction header without its quotes ("" when absent)

    @property
    def action_version(self) -> str | None:
        """"1" for the v1 form ("/logOn"), "2" for v2's ("urn:http://www.daisy.org/ns/daisy-online/logOn")."""
        if self.action.startswith(V2_ACTION):
            return "2"
        if self.action.startswith("/"):
            return "1"
        return None

    def text(self, name: str, required: bool = True) -> str:
        child = self.element.find(f"{{{DO}}}{name}")
        if child is None:
            if required:
                raise invalid(_l("%(name)s is missing", name=name))
            return ""
        return (child.text or "").strip()

    def integer(self, name: str) -> int:
        value = self.text(name)
        try:
            number = int(value)
        except ValueError:
            raise invalid(_l("%(name)s is not an integer", name=name)) from None
        if not -2**31 <= number < 2**31:
            raise invalid(_l("%(name)s is out of range", name=name))
        return number

    def child(self, namespace: str, name: str) -> Any:
        found = self.element.find(f"{{{namespace}}}{name}")
        if found is None:
            raise invalid(_l("%(name)s is missing", name=name))
        return found


def too_large() -> Fault:
    return invalid(_l("The request is too large"))


def parse(body: bytes, soap_action: str | None) -> Request:
    if len(body) > MAX_BODY:
        raise too_large()
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise invalid(_l("The request is not well-formed XML")) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise invalid(_l("A SOAP message must not contain a document type declaration"))
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise invalid(_l("Not a SOAP 1.1 envelope"))
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    elements = [el for el in (soap_body if soap_body is not None else []) if isinstance(el.tag, str)]
    if len(elements) != 1 or etree.QName(elements[0]).namespace != DO:
        raise invalid(_l("The SOAP body must hold one DAISY Online operation"))
    action = (soap_action or "").strip().strip('"')
    return Request(etree.QName(elements[0]).localname, elements[0], action)


def el(parent: Any, name: str, text: Any = None, namespace: str = DO, **attrs: Any) -> Any:
    """A child element ``name`` (in ``namespace``) with text and attributes (None attributes left out)."""
    node = etree.SubElement(parent, f"{{{namespace}}}{name}")
    for key, value in attrs.items():
        if value is not None:
            node.set(f"{{{XML}}}lang" if key == "lang" else key, _text(value))
    if text is not None:
        node.text = _text(text)
    return node


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def envelope() -> tuple[Any, Any]:
    """A new envelope and its Body."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
    return root, etree.SubElement(root, f"{{{SOAP_ENV}}}Body")


def answer(operation: str) -> tuple[Any, Any]:
    """A response envelope and its ``<operation>Response`` element."""
    root, body = envelope()
    return root, el(body, operation + "Response")


def label(parent: Any, text: str, lang: str) -> Any:
    """A ``label`` with its ``text`` in language ``lang`` (players without speech synthesis need audio)."""
    node = el(parent, "label", lang=lang)
    el(node, "text", text)
    return node


def serialize(root: Any) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault_document(fault: Fault, language: str) -> bytes:
    """The SOAP fault, its reason in ``language`` (one of the patron languages)."""
    with force_locale(language):
        reason = str(fault.reason)
    root, body = envelope()
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    code = etree.SubElement(node, "faultcode")
    code.text = "s:Client" if fault.client else "s:Server"
    etree.SubElement(node, "faultstring").text = reason
    detail = etree.SubElement(node, "detail")
    kind = el(detail, fault.kind + "Fault")
    el(kind, "reason", reason)
    return serialize(root)
