"""What leaves the worker for people: alerts refreshed from the store, the daily summary and urgent notices."""
