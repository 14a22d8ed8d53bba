"""The staff workspace: a FastAPI application of server-rendered pages (Jinja2) with htmx for partial updates.

app.py builds the application; sessions.py, passwords.py and guard.py keep it to logged-in staff;
routes/ holds one module per page; templates/ and static/ what the browser gets. It reads and writes
through store/ queries shared with the CLI and never drives a browser.
"""
