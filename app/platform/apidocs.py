"""/api/docs: the OpenAPI document as an accessible page (headings per operation, tables of fields),
served by the app itself from the same generated document — no script, no CDN."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass
class FieldRow:
    name: str
    type: str
    required: bool
    notes: str


@dataclass
class Answer:
    status: str
    description: str
    content_types: list[str]
    fields: list[FieldRow]


@dataclass
class OperationDoc:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    security: list[str]
    parameters: list[FieldRow]
    body: list[FieldRow]
    answers: list[Answer] = field(default_factory=list)


def operations(doc: dict[str, Any]) -> dict[str, list[OperationDoc]]:
    """Tag → its operations, in path order."""
    components = doc.get("components", {}).get("schemas", {})
    out: dict[str, list[OperationDoc]] = {}
    for path, ops in doc.get("paths", {}).items():
        for method in sorted(ops, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 9):
            op = ops[method]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            params = [FieldRow(f"{p['name']} ({p['in']})", type_text(p.get("schema", {}), components),
                               bool(p.get("required")), notes(p.get("schema", {}), p.get("description", "")))
                      for p in op.get("parameters", [])]
            answers = [Answer(status, spec.get("description", ""), list(spec.get("content", {})),
                              fields(_json_schema(spec), components) if int(status) < 400 else [])
                       for status, spec in op.get("responses", {}).items()]
            entry = OperationDoc(op.get("operationId", f"{method}-{path}"), method.upper(), path,
                                 op.get("summary", ""), op.get("description", ""),
                                 [name for req in op.get("security", []) for name in req], params,
                                 fields(body, components) if body else [], answers)
            for tag in op.get("tags", ["other"]):
                out.setdefault(tag, []).append(entry)
    return dict(sorted(out.items()))


def _json_schema(spec: dict[str, Any]) -> dict[str, Any] | None:
    content = spec.get("content", {})
    return next((c.get("schema") for kind, c in content.items() if kind.endswith("json")), None)


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def _without_null(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        return (rest[0] if len(rest) == 1 else {"anyOf": rest}), True
    return schema, False


def type_text(schema: dict[str, Any], components: dict[str, Any]) -> str:
    schema, nullable = _without_null(schema)
    if "$ref" in schema:
        text = schema["$ref"].rsplit("/", 1)[-1]
    elif "anyOf" in schema:
        text = " or ".join(type_text(s, components) for s in schema["anyOf"])
    elif schema.get("type") == "array":
        text = f"list of {type_text(schema.get('items', {}), components)}"
    else:
        text = str(schema.get("type", "any"))
        if "format" in schema:
            text += f" ({schema['format']})"
    return text + (" or null" if nullable else "")


def notes(schema: dict[str, Any], description: str = "") -> str:
    schema, _ = _without_null(schema)
    parts = [description or schema.get("description", "")]
    if "enum" in schema:
        parts.append("one of: " + ", ".join(str(v) for v in schema["enum"]))
    if "const" in schema:
        parts.append(f"always {schema['const']}")
    for key, label in (("maxLength", "at most {} characters"), ("minLength", "at least {} characters"),
                       ("maximum", "at most {}"), ("minimum", "at least {}"), ("pattern", "pattern {}"),
                       ("maxItems", "at most {} items")):
        if key in schema:
            parts.append(label.format(schema[key]))
    return "; ".join(p for p in parts if p)


def fields(schema: dict[str, Any] | None, components: dict[str, Any], prefix: str = "",
           depth: int = 0) -> list[FieldRow]:
    """The rows of an object schema, nested objects flattened as ``parent.child`` (lists as ``parent[]``)."""
    if schema is None or depth > 4:
        return []
    schema = resolve(_without_null(schema)[0], components)
    if schema.get("type") == "array":
        return fields(schema.get("items"), components, prefix + "[]", depth + 1)
    rows: list[FieldRow] = []
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        full = f"{prefix}.{name}" if prefix else name
        rows.append(FieldRow(full, type_text(prop, components), name in required, notes(prop)))
        inner = resolve(_without_null(prop)[0], components)
        if inner.get("type") == "array":
            inner = resolve(_without_null(inner.get("items", {}))[0], components)
            full += "[]"
        if inner.get("properties"):
            rows.extend(fields(inner, components, full, depth + 1))
    return rows
