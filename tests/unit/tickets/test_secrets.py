"""Ticket secrets: long, random, and free of characters that look alike on paper."""

from events.tickets.secrets import new_ticket_secret


def test_ticket_secrets_are_long_random_and_free_of_look_alikes() -> None:
    secrets = {new_ticket_secret() for _ in range(2000)}
    assert len(secrets) == 2000
    for secret in secrets:
        assert len(secret) == 20
        assert not set(secret) & set("o01il")
