"""Circulation core: loans, renewals, holds, fines, notices and payments.

The modules money, calendar, policy, fines, notices and decisions are pure (stdlib only, no clock,
no I/O); a library's rules come from a policy preset in ``presets/``.
"""
