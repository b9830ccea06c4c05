"""Hostile SOAP bodies get a SOAP fault at once: no entity expansion, no network, no huge trees, no 5xx pages."""
from __future__ import annotations

import time

import pytest
from lxml import etree

from app.lending.dodp.soap import DO, SOAP_ENV

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + f']><s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><logOn xmlns="{DO}"><username>&lol9;</username>'
          '<password>x</password></logOn></s:Body></s:Envelope>')
XXE = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><logOn xmlns="{DO}"><username>&x;</username>'
       '<password>x</password></logOn></s:Body></s:Envelope>')
NETWORK = ('<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">'
           f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><logOff xmlns="{DO}"/></s:Body></s:Envelope>')
DEEP = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>' + "<a>" * 5000 + "</a>" * 5000 + "</s:Body></s:Envelope>"


@pytest.mark.parametrize("body", [LAUGHS, XXE, NETWORK, DEEP, "not xml", "<a/>", "\x00\ud800",
                                  f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><logOn xmlns="urn:other"/></s:Body>'
                                  "</s:Envelope>",
                                  f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><nosuch xmlns="{DO}"/></s:Body>'
                                  "</s:Envelope>",
                                  f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body/></s:Envelope>'],
                         ids=["billion-laughs", "xxe", "external-dtd", "deep", "text", "no-envelope", "nul",
                              "other-namespace", "unknown-operation", "empty-body"])
def test_hostile_bodies_get_a_soap_fault(client, body):
    started = time.monotonic()
    resp = client.post("/daisy-online", data=body.encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "text/xml", "SOAPAction": '"/logOn"'})
    assert time.monotonic() - started < 5
    assert resp.status_code == 500 and resp.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(resp.data)
    detail = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail")[0]
    assert etree.QName(detail).localname in ("invalidParameterFault", "noActiveSessionFault")
    assert b"root:" not in resp.data and b"lollol" not in resp.data


def test_an_oversized_body_is_refused_unread(client):
    resp = client.post("/daisy-online", data=b"<" * (300 * 1024), headers={"Content-Type": "text/xml"})
    assert resp.status_code == 500 and b"too large" in resp.data


def test_resources_need_a_session(client):
    assert client.get("/daisy-online/content/1/ncc.html").status_code == 401


def test_an_unexpected_failure_is_a_soap_fault_not_an_html_page(client, card, monkeypatch):
    from app.lending.dodp import polled
    from tests.dodp.conftest import Fault, Player

    player = Player(client)
    player.set_up(card)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(polled, "poll", broken)
    with pytest.raises(Fault) as failed:
        player.content_list("issued")
    assert failed.value.kind == "internalServerError" and "database" not in failed.value.reason
