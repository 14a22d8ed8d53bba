"""One module per page (or group of pages); each exposes `router`, included by web/app.py."""
