"""Access and discount codes: a code unlocks hidden ticket types (volunteers, partner staff, performers) or takes
money off tickets, a limited number of times within its validity window, its uses counted exactly like places."""
