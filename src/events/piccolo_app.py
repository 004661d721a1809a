"""The project's one Piccolo app: every table, with migrations in the top-level migrations/ folder."""

from piccolo.conf.apps import AppConfig

from events.accounts.tables import AccountMessage, ApiToken, PasswordReset, SessionRecord, SignIn, User
from events.audit.tables import AuditEntry
from events.catalogue.tables import BeneficiaryShare, Event, Partner, TicketType
from events.checkin.tables import DevicePairing, DoorAssignment, Scan
from events.config import PROJECT_ROOT
from events.jobs.tables import JobLease
from events.ledger.tables import (
    EventAttendance,
    EventCost,
    LedgerEntry,
    LedgerTotal,
    Payout,
    StripeBalanceTransaction,
    StripeDifference,
    StripeImport,
)
from events.orders.tables import ClaimCode, GiftAidDeclaration, Order, OrderHistory, OrderLine
from events.payments.tables import Payment, Refund, WebhookEvent
from events.ratelimit.tables import RateLimitBucket
from events.tickets.tables import EventSigningKey, OutboxMessage, Ticket

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=[
        Partner,
        Event,
        TicketType,
        BeneficiaryShare,
        User,
        ApiToken,
        SessionRecord,
        SignIn,
        PasswordReset,
        AccountMessage,
        RateLimitBucket,
        JobLease,
        Order,
        OrderLine,
        Ticket,
        OrderHistory,
        ClaimCode,
        Payment,
        Refund,
        WebhookEvent,
        EventSigningKey,
        OutboxMessage,
        DoorAssignment,
        Scan,
        LedgerEntry,
        EventCost,
        Payout,
        DevicePairing,
        GiftAidDeclaration,
        AuditEntry,
        StripeBalanceTransaction,
        StripeImport,
        StripeDifference,
        LedgerTotal,
        EventAttendance,
    ],
    migration_dependencies=[],
    commands=[],
)
