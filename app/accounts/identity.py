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
    """Birth date part and century sign shown, individual number hidden: 010594Y***V → 010594Y****."""
    code = code.strip().upper()
    return code[:7] + "*" * (len(code) - 7) if len(code) > 7 else "*" * len(code)
