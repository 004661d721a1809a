from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-05T10:11:37:018297"
VERSION = "1.38.0"
DESCRIPTION = "Statuses and payment methods as enum choices (no schema change)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Event",
        tablename="event",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "EventStatus",
                {
                    "draft": "draft",
                    "on_sale": "on_sale",
                    "sales_closed": "sales_closed",
                    "cancelled": "cancelled",
                    "finished": "finished",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Order",
        tablename="ticket_order",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "OrderStatus",
                {
                    "pending": "pending",
                    "paid": "paid",
                    "expired": "expired",
                    "refund_due": "refund_due",
                    "refunded": "refunded",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Ticket",
        tablename="ticket",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "TicketStatus",
                {"valid": "valid", "refunded": "refunded", "void": "void"},
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Payment",
        tablename="payment",
        column_name="provider",
        db_column_name="provider",
        params={
            "choices": Enum(
                "PaymentMethod",
                {
                    "stripe": "stripe",
                    "test": "test",
                    "cash": "cash",
                    "card_terminal": "card_terminal",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Refund",
        tablename="refund",
        column_name="method",
        db_column_name="method",
        params={
            "choices": Enum(
                "PaymentMethod",
                {
                    "stripe": "stripe",
                    "test": "test",
                    "cash": "cash",
                    "card_terminal": "card_terminal",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Refund",
        tablename="refund",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "RefundStatus",
                {
                    "pending": "pending",
                    "succeeded": "succeeded",
                    "failed": "failed",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="OutboxMessage",
        tablename="outbox_message",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "MessageStatus",
                {
                    "queued": "queued",
                    "sent": "sent",
                    "failed": "failed",
                    "skipped": "skipped",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
