"""Guests' personal data: erasing it on schedule and on request, and exporting one guest's data."""
