"""events: ticketing for charity fundraising events."""
