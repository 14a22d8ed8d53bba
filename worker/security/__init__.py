"""Secrets: where portal credentials are kept (credentials.py) and how they stay out of logs (redaction.py)."""
