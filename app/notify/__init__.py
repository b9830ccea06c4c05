"""Transactional outbox and delivery channels (email over SMTP, SMS gateway, printed letters)."""
