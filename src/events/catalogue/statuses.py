"""An event's status: where it is in its life, from draft to finished. Transitions are in `catalogue.rules`."""

from enum import StrEnum


class EventStatus(StrEnum):
    draft = "draft"  # being set up; not public
    on_sale = "on_sale"  # public and selling (within its sales window)
    sales_closed = "sales_closed"  # public, not selling; tickets still valid
    cancelled = "cancelled"  # called off; orders are refunded
    finished = "finished"  # has happened
