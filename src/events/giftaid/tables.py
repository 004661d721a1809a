"""Gift Aid tables: a donor's declaration, made at checkout on one order."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.orders.tables import Order


class GiftAidDeclaration(Table, tablename="gift_aid_declaration"):
    """What a UK taxpayer declared on an order's donation parts. It counts only while the order is paid;
    refunds reduce it pro rata. ``statement`` is the wording the donor confirmed, kept as HMRC asks."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, unique=True, index=True)
    title = Varchar(length=4, default="")
    first_name = Varchar(length=35)
    last_name = Varchar(length=35)
    house = Varchar(length=40)
    postcode = Varchar(length=8)
    eligible_pence = Integer()  # the order's contributions plus donations when it was placed
    currency = Varchar(length=3, default="GBP")
    statement = Text()
    created_at = Timestamptz(default=TimestamptzNow())
