"""The project's one Piccolo app: every table, with migrations in the top-level migrations/ folder."""

from piccolo.conf.apps import AppConfig

from events.accounts.tables import AccountMessage, ApiToken, Invitation, Membership, PasswordReset, SessionRecord, SignIn, User
from events.announcements.tables import Announcement, AnnouncementVersion
from events.audit.tables import AuditEntry
from events.catalogue.tables import BeneficiaryShare, Event, EventAccess, Partner, Series, TicketType
from events.checkin.tables import DevicePairing, DoorAssignment, Scan
from events.codes.tables import Code, CodeUnlock
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
from events.orders.tables import ClaimCode, GiftAidDeclaration, Order, OrderGuestName, OrderHistory, OrderLine
from events.organisations.tables import Organisation
from events.payments.tables import Payment, Refund, RefundDonation, StripeAccount, WebhookEvent
from events.questions.tables import Answer, Question, QuestionTicketType
from events.ratelimit.tables import RateLimitBucket
from events.tickets.tables import EventSigningKey, OutboxMessage, Ticket
from events.waitlist.tables import WaitingEntry

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=[
        Organisation,
        Partner,
        Series,
        Event,
        TicketType,
        Code,
        CodeUnlock,
        BeneficiaryShare,
        User,
        Membership,
        Invitation,
        EventAccess,
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
        OrderGuestName,
        ClaimCode,
        Payment,
        Refund,
        RefundDonation,
        WebhookEvent,
        StripeAccount,
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
        WaitingEntry,
        Question,
        QuestionTicketType,
        Answer,
        Announcement,
        AnnouncementVersion,
    ],
    migration_dependencies=[],
    commands=[],
)
