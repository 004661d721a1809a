"""The order endpoints: the guest's pages and API for buying, paying, the order page and claiming a free place,
and the organiser's API on orders (refunds, claim codes, giving a free place). They sit above payments and
tickets, which they drive; the rules and data they act on are the orders package's."""
