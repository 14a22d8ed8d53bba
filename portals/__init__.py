"""Payer portal adapters: the only code that knows a portal's URLs, selectors and pages."""
