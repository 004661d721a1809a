"""The payment methods a door sale may name are the door's payment methods (msgspec's Literal cannot name enum members)."""

import typing

from events.door_sales.schemas import DoorSaleIn
from events.payments.service import DOOR_PAYMENT_METHODS
from events.payments.statuses import PaymentMethod


def test_a_door_sale_names_a_door_payment_method() -> None:
    named = set(typing.get_args(typing.get_type_hints(DoorSaleIn)["payment_method"]))
    assert named == set(DOOR_PAYMENT_METHODS) == {PaymentMethod.cash, PaymentMethod.card_terminal}
