"""The business: what a claim's status means, what is due, denials, authorizations, credentialing, alerts.

One transaction convention holds in every flow:

- A flow that talks to the outside world (a portal, a file) takes an `Engine` and opens one
  short transaction (`store.db.session_scope`) for each thing it records. No transaction is
  held open while a portal page loads, and a failure halfway keeps what was recorded before it.
- A flow that only reads or changes stored rows takes the caller's `Session` and runs inside
  the caller's transaction, so the caller decides what commits together.

So no flow takes both a portal and a `Session` (tests/test_layout_rules.py checks it).
"""
