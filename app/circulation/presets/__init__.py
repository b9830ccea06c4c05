"""Library presets: policy documents stored as TOML next to this file.

Adding a library is adding a ``<code>.toml`` here. Every value carries a comment naming the seed
rule behind it, or saying that the document is silent and which value was chosen.

Schema (unknown keys are errors; money is always a decimal *string* such as "1.50"):

    [library]        code, name, currency, timezone, branches, categories, child_categories,
                     material_types
    [defaults]       circulation rule fields (see RULE_FIELDS): loan_days, max_renewals,
                     max_loans_total, holdable, transportable, fine, grace_days,
                     childrens_material_fine_exempt, hold_pickup_days
                     fine = { model = "none" | "per_day" | "per_started_week" | "flat_first_day",
                              amount = "0.20", cap = "6.00" }
    [[rules]]        branch? category? material_type? + any rule fields (most specific wins)
    [limit_groups.NAME]  material_types, max_loans
    [[notices]]      code, days, channels, fee, applies_to_childrens_loans?, triggers?,
                     honours_opt_out?, recipient?, childrens_material_fee_exempt?
    [advance_notice] opt_in, min_days, max_days, default_days, channels          (optional)
    [billing_ban]    threshold, comparison ("exceeds" | "reaches")
    [fees]           uncollected_hold?, replacement_card?, interlibrary_loan?, item_processing?
    [online_payment] minimum, whole_balance_only, payable_fee_kinds, blocking_fee_kinds (optional)
    [membership]     revalidation_years?, responsible_person_min_age?
    [lost_items]     refund_on_return? (default true)
    [account]        patron_changes_address? (default false: the address is changed at the desk)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from app.circulation.money import Money
from app.circulation.policy import (
    RULE_FIELDS,
    AdvanceNoticeRule,
    BillingBanRule,
    FeeSchedule,
    FineModel,
    LimitGroup,
    NoticeStep,
    OnlinePaymentRule,
    Policy,
    PolicyError,
    RuleScope,
    RuleSet,
    ScopedRuleSet,
)

PRESET_DIR = Path(__file__).parent
SCOPE_KEYS = ("branch", "category", "material_type")
SECTION_KEYS = {
    "library": {
        "code",
        "name",
        "currency",
        "timezone",
        "language",
        "branches",
        "categories",
        "child_categories",
        "material_types",
    },
    "defaults": set(RULE_FIELDS),
    "rules": {*SCOPE_KEYS, *RULE_FIELDS},
    "limit_group": {"material_types", "max_loans"},
    "notices": {
        "code",
        "days",
        "channels",
        "fee",
        "applies_to_childrens_loans",
        "triggers",
        "honours_opt_out",
        "recipient",
        "childrens_material_fee_exempt",
    },
    "advance_notice": {"opt_in", "min_days", "max_days", "default_days", "channels"},
    "billing_ban": {"threshold", "comparison"},
    "fees": {"uncollected_hold", "replacement_card", "interlibrary_loan", "item_processing"},
    "online_payment": {"minimum", "whole_balance_only", "payable_fee_kinds", "blocking_fee_kinds"},
    "membership": {"revalidation_years", "responsible_person_min_age"},
    "lost_items": {"refund_on_return"},
    "account": {"patron_changes_address"},
    "fine": {"model", "amount", "cap"},
}
TOP_LEVEL_KEYS = {
    "library",
    "defaults",
    "rules",
    "limit_groups",
    "notices",
    "advance_notice",
    "billing_ban",
    "fees",
    "online_payment",
    "membership",
    "lost_items",
    "account",
}
REQUIRED_TOP_LEVEL = {"library", "defaults", "billing_ban"}


def available_presets() -> list[str]:
    """Codes of the shipped presets, e.g. ["czech", "lumme", "outi", "tampere"]."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


@cache
def load_preset(name: str) -> Policy:
    """The policy of a shipped preset; a Policy is immutable, so one instance is shared."""
    if name not in available_presets():
        raise LookupError(f"no preset {name!r}; available: {available_presets()}")
    path = PRESET_DIR / f"{name}.toml"
    return parse_policy_toml(path.read_text(encoding="utf-8"), source=path.name)


def parse_policy_toml(text: str, *, source: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}: not valid TOML: {error}") from None
    return parse_policy(data, source=source)


def parse_policy(data: Mapping[str, Any], *, source: str = "<policy>") -> Policy:
    """A validated Policy from a parsed document; errors name the source file and the key."""
    try:
        return _build_policy(data)
    except (PolicyError, ValueError, TypeError) as error:
        raise PolicyError(f"{source}: {error}") from None


# -- building blocks -----------------------------------------------------------------------------


def _section(data: Mapping[str, Any], path: str, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{path}: expected a table, got {data!r}")
    unknown = set(data) - SECTION_KEYS[kind]
    if unknown:
        raise PolicyError(f"{path}: unknown keys {sorted(unknown)}; allowed {sorted(SECTION_KEYS[kind])}")
    return data


def _array_of_tables(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PolicyError(f"{path}: expected an array of tables ([[{path}]]), got {value!r}")
    return value


def _tables_by_name(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{path}: expected a table of named tables, got {value!r}")
    return value


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise PolicyError(f"{path}: expected a list of names, got {value!r}")
    return tuple(value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{path}: expected a non-empty string, got {value!r}")
    return value


def _money(value: Any, currency: str, path: str) -> Money:
    if not isinstance(value, str):  # a TOML float 1.5 is already inexact; demand "1.50"
        raise PolicyError(f'{path}: money must be a decimal string like "1.50", got {value!r}')
    try:
        return Money.parse(value, currency)
    except ValueError as error:
        raise PolicyError(f"{path}: {error}") from None


def _fine(value: Any, currency: str, path: str) -> FineModel:
    table = _section(value, path, "fine")
    money = {key: _money(table[key], currency, f"{path}.{key}") for key in ("amount", "cap") if key in table}
    try:
        return FineModel(model=_text(table.get("model"), f"{path}.model"), **money)
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None


def _rule_set(table: Mapping[str, Any], currency: str, path: str) -> RuleSet:
    values = {key: table[key] for key in RULE_FIELDS if key in table}
    if "fine" in values:
        values["fine"] = _fine(values["fine"], currency, f"{path}.fine")
    try:
        return RuleSet(**values)
    except PolicyError as error:
        raise PolicyError(f"{path}.{error}") from None


def _notice(table: Mapping[str, Any], currency: str, path: str) -> NoticeStep:
    table = _section(table, path, "notices")
    for key in ("code", "days", "channels", "fee"):
        if key not in table:
            raise PolicyError(f"{path}: missing {key!r}")
    options = {
        key: table[key]
        for key in ("applies_to_childrens_loans", "triggers", "honours_opt_out", "recipient",
                    "childrens_material_fee_exempt")
        if key in table
    }
    for key in ("applies_to_childrens_loans", "honours_opt_out", "childrens_material_fee_exempt"):
        if key in options and not isinstance(options[key], bool):
            raise PolicyError(f"{path}.{key}: expected true/false")
    return NoticeStep(
        code=_text(table["code"], f"{path}.code"),
        days=table["days"],
        channels=_strings(table["channels"], f"{path}.channels"),
        fee=_money(table["fee"], currency, f"{path}.fee"),
        **options,
    )


def _build_policy(data: Mapping[str, Any]) -> Policy:
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise PolicyError(f"unknown top-level keys {sorted(unknown)}")
    missing = REQUIRED_TOP_LEVEL - set(data)
    if missing:
        raise PolicyError(f"missing sections {sorted(missing)}")
    library = _section(data["library"], "library", "library")
    currency = _text(library.get("currency"), "library.currency")

    rules = []
    for index, table in enumerate(_array_of_tables(data.get("rules", []), "rules")):
        path = f"rules[{index}]"
        _section(table, path, "rules")
        scope = RuleScope(**{key: _text(table[key], f"{path}.{key}") for key in SCOPE_KEYS if key in table})
        rules.append(ScopedRuleSet(scope, _rule_set(table, currency, path)))

    limit_groups = []
    for name, table in _tables_by_name(data.get("limit_groups", {}), "limit_groups").items():
        path = f"limit_groups.{name}"
        _section(table, path, "limit_group")
        limit_groups.append(
            LimitGroup(
                name=name,
                material_types=frozenset(_strings(table.get("material_types"), f"{path}.material_types")),
                max_loans=table.get("max_loans"),  # type: ignore[arg-type]  # checked by Policy
            )
        )

    advance = None
    if "advance_notice" in data:
        table = _section(data["advance_notice"], "advance_notice", "advance_notice")
        if not isinstance(table.get("opt_in"), bool):
            raise PolicyError("advance_notice.opt_in: expected true/false")
        advance = AdvanceNoticeRule(
            opt_in=table["opt_in"],
            min_days=table.get("min_days"),  # type: ignore[arg-type]  # range-checked
            max_days=table.get("max_days"),  # type: ignore[arg-type]
            default_days=table.get("default_days"),  # type: ignore[arg-type]
            channels=_strings(table.get("channels"), "advance_notice.channels"),
        )

    ban = _section(data["billing_ban"], "billing_ban", "billing_ban")
    fees = _section(data.get("fees", {}), "fees", "fees")
    membership = _section(data.get("membership", {}), "membership", "membership")
    lost_items = _section(data.get("lost_items", {}), "lost_items", "lost_items")
    account = _section(data.get("account", {}), "account", "account")

    online = None
    if "online_payment" in data:
        table = _section(data["online_payment"], "online_payment", "online_payment")
        if not isinstance(table.get("whole_balance_only"), bool):
            raise PolicyError("online_payment.whole_balance_only: expected true/false")
        online = OnlinePaymentRule(
            minimum=_money(table.get("minimum"), currency, "online_payment.minimum"),
            whole_balance_only=table["whole_balance_only"],
            payable_fee_kinds=frozenset(
                _strings(table.get("payable_fee_kinds"), "online_payment.payable_fee_kinds")
            ),
            blocking_fee_kinds=frozenset(
                _strings(table.get("blocking_fee_kinds", []), "online_payment.blocking_fee_kinds")
            ),
        )

    return Policy(
        code=_text(library.get("code"), "library.code"),
        name=_text(library.get("name"), "library.name"),
        currency=currency,
        timezone=_text(library.get("timezone"), "library.timezone"),
        branches=frozenset(_strings(library.get("branches", []), "library.branches")),
        categories=frozenset(_strings(library.get("categories"), "library.categories")),
        child_categories=frozenset(_strings(library.get("child_categories", []), "library.child_categories")),
        material_types=frozenset(_strings(library.get("material_types"), "library.material_types")),
        defaults=_rule_set(_section(data["defaults"], "defaults", "defaults"), currency, "defaults"),
        rules=tuple(rules),
        limit_groups=tuple(limit_groups),
        notices=tuple(
            _notice(table, currency, f"notices[{i}]")
            for i, table in enumerate(_array_of_tables(data.get("notices", []), "notices"))
        ),
        advance_notice=advance,
        billing_ban=BillingBanRule(
            threshold=_money(ban.get("threshold"), currency, "billing_ban.threshold"),
            comparison=ban.get("comparison", "exceeds"),
        ),
        fees=FeeSchedule(**{key: _money(value, currency, f"fees.{key}") for key, value in fees.items()}),
        online_payment=online,
        membership_revalidation_years=membership.get("revalidation_years"),
        responsible_person_min_age=membership.get("responsible_person_min_age", 18),
        lost_item_refund_on_return=lost_items.get("refund_on_return", True),
        language=_text(library.get("language", "fi"), "library.language"),
        patron_changes_address=account.get("patron_changes_address", False),
    )
