"""The architecture rules that code review forgets: the pure core stays pure, dependencies point one way."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
PURE = ["money", "calendar", "policy", "fines", "notices", "decisions"]
DOMAINS = ["accounts", "circulation", "registration", "institutions", "lending", "catalogue", "cdclub", "status"]
# Which domains each domain may import (besides the platform modules app.db, app.errors, …).
ALLOWED = {
    "accounts": set(),
    "circulation": {"accounts"},
    "registration": {"accounts", "circulation"},
    "institutions": {"accounts", "circulation"},
    "lending": {"accounts", "circulation"},
    "catalogue": {"accounts", "circulation", "lending"},  # reads lending's audiobooks through its service
    "cdclub": {"accounts", "circulation", "lending"},
    "status": {"accounts"},  # for staff login and roles only; status gates domains, never imports them
}
# Platform modules that wire domains together (and may therefore import them).
WIRING = {"__init__.py", "models.py", "demo.py", "cli.py", "scheduler.py", "domains.py"}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.append("." * node.level + (node.module or ""))
    return names


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in DOMAINS else None


@pytest.mark.parametrize("name", PURE)
def test_pure_circulation_modules_import_only_the_standard_library(name):
    path = APP / "circulation" / f"{name}.py"
    if not path.exists():
        pytest.skip(f"{path.name} not written yet")
    for module in imports_of(path):
        if module.startswith("."):
            pytest.fail(f"{path.name}: use absolute imports of the pure siblings, not {module}")
        top = module.split(".")[0]
        if top == "app":
            sibling = module.split(".")
            assert sibling[:2] == ["app", "circulation"] and (len(sibling) < 3 or sibling[2] in PURE + ["presets"]), \
                f"{path.name} imports {module}: the pure core may import only its pure siblings"
        else:
            assert top in sys.stdlib_module_names or top == "__future__", \
                f"{path.name} imports {module}: the pure core is stdlib only"


def test_domains_import_only_in_the_allowed_direction():
    problems = []
    for domain in DOMAINS:
        for path in (APP / domain).rglob("*.py") if (APP / domain).exists() else []:
            for module in imports_of(path):
                other = domain_of(module)
                if other and other != domain and other not in ALLOWED[domain]:
                    problems.append(f"{path.relative_to(APP)} imports {module}")
    assert not problems, "imports against the allowed direction:\n" + "\n".join(problems)


def test_platform_modules_do_not_import_domains():
    problems = []
    for path in list(APP.glob("*.py")) + list((APP / "notify").glob("*.py")):
        if path.name in WIRING:
            continue
        for module in imports_of(path):
            if domain_of(module) not in (None, "accounts"):
                problems.append(f"{path.relative_to(APP)} imports {module}")
    assert not problems, "\n".join(problems)


def test_nothing_but_the_factory_and_config_reads_the_environment():
    offenders = [str(p.relative_to(APP)) for p in APP.rglob("*.py")
                 if "os.environ" in p.read_text() or "getenv(" in p.read_text()]
    assert offenders == []


def test_the_architecture_checks_can_fail(tmp_path):
    """Guard against a check that cannot fail: a forbidden import is detected."""
    bad = tmp_path / "bad.py"
    bad.write_text("import flask\nfrom app.lending import service\n")
    assert "flask" in imports_of(bad) and domain_of("app.lending.service") == "lending"
