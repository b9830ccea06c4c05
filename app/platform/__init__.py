"""Platform pieces every domain stands on (the HTTP API contract, request bodies), apart from the domains."""
