"""Selling at the door: a door sale end to end, from the door staff's request to checked-in tickets, the
cash or card-terminal payment and its ledger entries."""
