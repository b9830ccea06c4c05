"""Staff users, roles, patrons' credentials (card, PIN, password), login, device and API tokens."""
