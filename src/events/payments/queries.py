"""The payments' hand-written SQL: booking a payment and recording a webhook, each exactly once. Run each with
``events.db.run``; placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else in payments
uses Piccolo's query builder."""

from __future__ import annotations

# Raw: hot path (every payment, from the webhook or the guest's order page: booked once by its unique provider
# reference, in the transaction that settles the order; no row back when it was booked before). Arguments: order
# id, provider, provider reference, charge id, amount, fee, currency, created at.
BOOK_PAYMENT = """
INSERT INTO payment (order_id, provider, provider_reference, charge_id, amount_pence, fee_pence, currency, created_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, {})
ON CONFLICT (provider_reference) DO NOTHING
RETURNING id
"""
# Raw: hot path (every Stripe webhook: its event id recorded once; no row back for an event seen before).
# Arguments: Stripe event id, the organisation whose endpoint it came to (or NULL), event type, object id, received at.
RECORD_WEBHOOK = """
INSERT INTO webhook_event (stripe_event_id, organisation, event_type, object_id, received_at, processed_at, error)
VALUES ({}, {}, {}, {}, {}, NULL, '')
ON CONFLICT (stripe_event_id) DO NOTHING
RETURNING id
"""

# Which Stripe account an organisation's payments go through, in one round trip rather than three: its connected
# account's encrypted keys (all NULL when it has none), and whether it is the installation's first organisation
# (whose account the environment's STRIPE_* settings are). No row: no such event or organisation.
_ACCOUNT = """
SELECT o.id AS organisation, a.secret_key_encrypted, a.webhook_secret_encrypted, a.publishable_key,
       CASE WHEN o.id = (SELECT MIN(id) FROM organisation) THEN 1 ELSE 0 END AS first
FROM organisation o LEFT JOIN stripe_account a ON a.organisation = o.id
"""
# Raw: hot path (every buy and every guest's payment page: the event's organisation's account). Arguments: event slug.
ACCOUNT_OF_EVENT = _ACCOUNT + "WHERE o.id = (SELECT e.organisation FROM event e WHERE e.slug = {})"
# Raw: hot path (the payment page, the test payment and the order page: the order's organisation's account).
# Arguments: order reference.
ACCOUNT_OF_ORDER = _ACCOUNT + "WHERE o.id = (SELECT e.organisation FROM ticket_order t JOIN event e ON e.id = t.event WHERE t.reference = {})"
# Raw: as ACCOUNT_OF_EVENT, for an organisation (webhooks, refunds, the worker's jobs). Arguments: organisation id.
ACCOUNT_OF_ORGANISATION = _ACCOUNT + "WHERE o.id = {}"
