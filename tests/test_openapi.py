"""The OpenAPI document is generated from the routes: every /api route is in it with its real methods, every
documented path is a real route, the document is valid OpenAPI 3.1, and /api/docs shows it to people."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from app.platform.openapi import api_routes


@pytest.fixture()
def doc(client):
    return client.get("/api/openapi.json").json


def _real_operations(app) -> set[tuple[str, str]]:
    return {(r.path, r.method.lower()) for r in api_routes(app)}


def _documented_operations(doc) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def test_every_api_route_is_declared_with_one_method_per_view(app):
    undeclared = sorted(f"{r.method} {r.path}" for r in api_routes(app) if r.op is None)
    assert undeclared == []
    views: dict[str, set[str]] = {}
    for r in api_routes(app):
        views.setdefault(r.endpoint, set()).add(r.method)
    assert {e: m for e, m in views.items() if len(m) > 1} == {}


def test_the_document_lists_exactly_the_real_routes_and_methods(app, doc):
    assert _documented_operations(doc) == _real_operations(app)


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_no_hand_written_path_dicts_are_left_in_the_app():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "app"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if re.search(r"""["']/api/v1/[^"']*["']\s*:\s*\{""", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_operation_documents_its_failures(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "503" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if op["security"]:
                assert "401" in codes, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= codes, (method, path)
            for code, answer in op["responses"].items():
                if int(code) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (method, path, code)


def test_registration_is_documented_from_its_models(doc):
    op = doc["paths"]["/api/v1/registrations"]["post"]
    assert {"200", "201", "401", "403", "422"} <= set(op["responses"])
    request = doc["components"]["schemas"]["RegistrationRequest"]
    assert request["properties"]["language"]["enum"] == ["fi", "sv", "en"]
    assert request["properties"]["surname"]["maxLength"] == 100
    assert "national_id" in request["required"]
    assert op["security"] == [{"bearer": []}]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])


def test_api_docs_is_an_accessible_page_of_the_same_document(client, doc):
    resp = client.get("/api/docs", headers={"Accept-Language": "fi"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    for path in doc["paths"]:
        assert path in resp.text
    assert '<html lang="fi"' in resp.text and '<p lang="en">' in resp.text  # English summaries are marked
    assert 'href="/api/docs"' in client.get("/").text
