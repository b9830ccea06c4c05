"""National identity codes: a keyed hash for lookup, a masked form for display. Never stored in clear.

The hash is HMAC-SHA256 with the server secret IDENTITY_HASH_KEY over the code exactly as validated
(upper-cased, century sign kept: 010594Y308V and 010594-308V are different people since 2023).
"""
from __future__ import annotations

import hashlib
import hmac


def identity_hash(key: str, code: str) -> str:
    return hmac.new(key.encode(), code.strip().upper().encode(), hashlib.sha256).hexdigest()


def masked(code: str) -> str:
    """The one masked form of an identity code everywhere: birth date, century sign and check character
    shown, the individual number hidden: 010594Y308V → 010594Y***V."""
    code = code.strip().upper()
    if len(code) == 11:
        return code[:7] + "***" + code[10]
    return code[:7] + "*" * (len(code) - 7) if len(code) > 7 else "*" * len(code)
