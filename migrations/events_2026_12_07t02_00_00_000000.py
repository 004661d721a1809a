from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A refund Stripe refused can be given back another way: when it was (refund.given_back_at), and bank_transfer as a method"

PAYMENT_METHODS = {"stripe": "stripe", "test": "test", "cash": "cash", "card_terminal": "card_terminal"}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Refund",
        tablename="refund",
        column_name="given_back_at",
        db_column_name="given_back_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    for table_class_name, tablename, column_name in (("Payment", "payment", "provider"), ("Refund", "refund", "method")):
        manager.alter_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name=column_name,
            db_column_name=column_name,
            params={"choices": Enum("PaymentMethod", {**PAYMENT_METHODS, "bank_transfer": "bank_transfer"})},
            old_params={"choices": Enum("PaymentMethod", PAYMENT_METHODS)},
            column_class=Varchar,
            old_column_class=Varchar,
            schema=None,
        )

    return manager
