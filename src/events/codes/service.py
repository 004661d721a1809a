"""Codes service: organisers make, list and revoke an event's codes; buyers' codes are looked up within their budgets of
wrong tries; and the uses are counted, under the code's row lock, in the transaction that holds or frees an order's
places (orders.service calls take_uses / free_uses there, after locking the event's counters).

Uses are counted like places: a pending hold with a code holds one use of it, given back when the hold ends unpaid
(expired, released, replaced); a paid order keeps its use, refunded or not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from events import db
from events.audit import service as audit
from events.catalogue.lookup import find_event
from events.catalogue.tables import TicketType
from events.codes import queries, rules
from events.codes.schemas import CodeIn, CodeOut
from events.codes.tables import Code, CodeUnlock
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ratelimit import service as ratelimit

# Wrong codes are limited as claim codes are (orders.claims): per browser, so one person's guessing stops that person,
# and per address with a budget that a shared connection's honest typos stay under.
WRONG_CODES_PER_BROWSER = 10
WRONG_CODES_PER_ADDRESS = 500
WRONG_CODES_WINDOW_SECONDS = 15 * 60
NOT_FOUND_CODE = "code_not_found"


class CodeUsedUp(Conflict):
    code = "code_used_up"


@dataclass(frozen=True, slots=True)
class Guesser:
    """Who is trying a code: their client address as the limits count it (a keyed hash), and their browser's own id
    ("" for an API client: only the address's budget holds it)."""

    client: str
    browser: str = ""


@dataclass(frozen=True, slots=True)
class Uses:
    """A code's uses as read under its row lock."""

    uses: int
    max_uses: int
    revoked_at: datetime | None

    @property
    def left(self) -> int:
        return max(0, self.max_uses - self.uses)


def wrong_code() -> InvalidInput:
    message = rules.REVOKED.message
    return InvalidInput(message, code=NOT_FOUND_CODE, fields={"code": message})


def refused(refusal: rules.Refusal) -> InvalidInput | CodeUsedUp:
    """The error a buyer gets for a code that cannot be used."""
    if refusal.code == CodeUsedUp.code:
        return CodeUsedUp(refusal.message, fields={"code": refusal.message})
    return InvalidInput(refusal.message, code=refusal.code, fields={"code": refusal.message})


def _budgets(guesser: Guesser) -> list[ratelimit.Budget]:
    budgets = [ratelimit.Budget("code-failures", guesser.client, WRONG_CODES_PER_ADDRESS)]
    if guesser.browser:
        budgets.insert(0, ratelimit.Budget("code-failures-browser", f"{guesser.client} {guesser.browser}", WRONG_CODES_PER_BROWSER))
    return budgets


def _is_wrong(error: BaseException) -> bool:
    return isinstance(error, InvalidInput) and error.code == NOT_FOUND_CODE


async def find_for_buyer(slug: str, typed: str, guesser: Guesser, *, now: datetime) -> rules.Code:
    """The live (unrevoked) code a buyer typed for the event, or InvalidInput ``code_not_found`` (422, on the field
    "code"), which counts against their budgets of wrong codes; TooManyAttempts (429) once a budget is spent.
    Whether it can be used now (its window, its uses) is for the caller to judge (codes.rules)."""
    async with ratelimit.wrong_tries_limited(
        _budgets(guesser), window_seconds=WRONG_CODES_WINDOW_SECONDS, now_epoch=int(now.timestamp()), is_wrong=_is_wrong
    ):
        normalised = rules.normalise(typed)
        row = None
        if normalised is not None:
            row = (
                await Code.select()
                .where(
                    Code.event.slug == slug,
                    Code.code == normalised,
                    Code.revoked_at.is_null(),
                    Code.event._.organisation._.suspended_at.is_null(),
                )
                .first()
            )
        if row is None:
            raise wrong_code()
    unlocks = await CodeUnlock.select(CodeUnlock.ticket_type).where(CodeUnlock.code == row["id"])
    return _rule_code(row, frozenset(unlock["ticket_type"] for unlock in unlocks))


def _rule_code(row: Mapping[str, Any], unlocks: frozenset[int]) -> rules.Code:
    return rules.Code(
        id=row["id"],
        code=row["code"],
        max_uses=row["max_uses"],
        uses=row["uses"],
        discount_percent=row["discount_percent"],
        discount_pence=row["discount_pence"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        revoked_at=row["revoked_at"],
        unlocks=unlocks,
    )


# --- counting uses, inside the caller's write transaction (orders.service) -----------------------------------------


async def lock_uses(code_ids: Collection[int]) -> dict[int, Uses]:
    """The codes' uses, read fresh and (PostgreSQL) locked until the transaction ends. Call after locking the event's
    counters (ticket types, then the event): codes come last in every writer's order. SQLite: its IMMEDIATE
    transaction is the only lock."""
    if not code_ids:
        return {}
    if db.is_sqlite():
        rows: Any = await Code.select(Code.id, Code.uses, Code.max_uses, Code.revoked_at).where(Code.id.is_in(sorted(code_ids)))
    else:
        rows = await db.run(queries.LOCK_USES, sorted(code_ids))
    return {row["id"]: Uses(row["uses"], row["max_uses"], row["revoked_at"]) for row in rows}


async def take_uses(per_code: Mapping[int, int]) -> bool:
    """Count uses of codes (code id -> uses), if each code still allows them. All or nothing: on False every code is
    as it was, because the caller carries on in the same transaction."""
    taken: dict[int, int] = {}
    for code_id in sorted(per_code):
        uses = per_code[code_id]
        if uses and not await db.run(queries.TAKE_USES, uses, code_id, uses):
            await free_uses(taken)
            return False
        taken[code_id] = uses
    return True


async def free_uses(per_code: Mapping[int, int]) -> None:
    """Give uses back (a hold that used the code ended unpaid)."""
    for code_id in sorted(per_code):
        if per_code[code_id]:
            await db.run(queries.FREE_USES, per_code[code_id], per_code[code_id], code_id)


# --- organisers ----------------------------------------------------------------------------------------------------


async def create_code(slug: str, data: CodeIn, *, now: datetime) -> CodeOut:
    """A new code for the event: the organiser's own (checked, in capitals) or a made-up one."""
    event = await find_event(slug)
    zone = ZoneInfo(event.timezone)
    times: dict[str, datetime | None] = {}
    out_of_range: dict[str, str] = {}
    for name in ("valid_from", "valid_until"):
        try:
            times[name] = _aware(getattr(data, name), zone)
        except OverflowError:  # e.g. the last day of year 9999 with an offset behind UTC
            times[name], out_of_range[name] = None, N_("Give a date and time this code can use.")
    valid_from, valid_until = times["valid_from"], times["valid_until"]
    unlocks = sorted(set(data.unlocks))
    problems = out_of_range | rules.terms_problems(
        discount_percent=data.discount_percent,
        discount_pence=data.discount_pence,
        max_uses=data.max_uses,
        valid_from=valid_from,
        valid_until=valid_until,
        unlocks_any=bool(unlocks),
    )
    chosen = (data.code or "").strip()
    code = rules.normalise(chosen) if chosen else None
    if chosen and (problem := rules.code_problem(code or chosen)) is not None:
        problems["code"] = problem
    if unlocks:
        hidden = {
            row["id"]
            for row in await TicketType.select(TicketType.id).where(
                TicketType.event == event.id, TicketType.id.is_in(unlocks), TicketType.hidden.eq(True)
            )
        }
        if set(unlocks) - hidden:
            problems["unlocks"] = N_("A code can unlock only this event's hidden ticket types: make the ticket type hidden first.")
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    try:
        row = await _save_code(event.id, code, data, unlocks=unlocks, valid_from=valid_from, valid_until=valid_until, now=now)
    except db.UNIQUE_ERRORS:  # the same code sent twice at once (a double click): the first made it
        raise _code_taken() from None
    return _code_out(row.to_dict(), unlocks, zone)


def _code_taken() -> Conflict:
    message = N_("This event already has that code.")
    return Conflict(message, code="code_taken", fields={"code": message})


async def _save_code(
    event_id: int, code: str | None, data: CodeIn, *, unlocks: list[int], valid_from: datetime | None, valid_until: datetime | None, now: datetime
) -> Code:
    """The code, its unlocks and its audit entry, in one transaction."""
    async with db.write_transaction():
        if code is None:
            code = await _unused_code(event_id)
        elif await Code.exists().where(Code.event == event_id, Code.code == code):
            raise _code_taken()
        row = Code(
            event=event_id,
            code=code,
            note=" ".join(data.note.split()),
            discount_percent=data.discount_percent,
            discount_pence=data.discount_pence,
            max_uses=data.max_uses,
            valid_from=valid_from,
            valid_until=valid_until,
            created_at=now,
        )
        await row.save()
        if unlocks:
            await CodeUnlock.insert(*[CodeUnlock(code=row.id, ticket_type=type_id) for type_id in unlocks])
        # The code itself stays out of the log (like a claim link's): what it does is enough to follow what happened.
        await audit.record(
            "code.created",
            now=now,
            event_id=event_id,
            subject_type="code",
            subject_id=row.id,
            after={
                "note": row.note,
                "unlocks": unlocks,
                "discount_percent": row.discount_percent,
                "discount_pence": row.discount_pence,
                "max_uses": row.max_uses,
                "valid_from": row.valid_from,
                "valid_until": row.valid_until,
            },
        )
    return row


async def _unused_code(event_id: int) -> str:
    for _ in range(5):
        code = rules.new_code()
        if not await Code.exists().where(Code.event == event_id, Code.code == code):
            return code
    return rules.new_code()  # the unique index is the final word; a clash is astronomically rare


async def list_codes(slug: str) -> list[CodeOut]:
    """The event's codes, oldest first, each with its uses (times in the event's time zone)."""
    event = await find_event(slug)
    rows = await Code.select().where(Code.event == event.id).order_by(Code.id)
    unlocks: dict[int, list[int]] = {}
    if rows:
        for unlock in await CodeUnlock.select().where(CodeUnlock.code.is_in([row["id"] for row in rows])).order_by(CodeUnlock.ticket_type):
            unlocks.setdefault(unlock["code"], []).append(unlock["ticket_type"])
    zone = ZoneInfo(event.timezone)
    return [_code_out(row, unlocks.get(row["id"], []), zone) for row in rows]


async def revoke_code(slug: str, code: str, *, now: datetime) -> None:
    """The code stops working for new orders; holds already placed with it may still be paid."""
    event = await find_event(slug)
    normalised = rules.normalise(code) or ""
    async with db.write_transaction():
        revoked = (
            await Code.update({Code.revoked_at: now})
            .where(Code.event == event.id, Code.code == normalised, Code.revoked_at.is_null())
            .returning(Code.id, Code.uses, Code.note)
        )
        if not revoked:
            raise NotFound(N_("We could not find that code."), code=NOT_FOUND_CODE)
        await audit.record(
            "code.revoked",
            now=now,
            event_id=event.id,
            subject_type="code",
            subject_id=revoked[0]["id"],
            before={"revoked": False},
            after={"revoked": True, "note": revoked[0]["note"], "uses": revoked[0]["uses"]},
        )


def _code_out(row: Mapping[str, Any], unlocks: list[int], zone: ZoneInfo) -> CodeOut:
    return CodeOut(
        id=row["id"],
        code=row["code"],
        note=row["note"],
        unlocks=unlocks,
        discount_percent=row["discount_percent"],
        discount_pence=row["discount_pence"],
        max_uses=row["max_uses"],
        uses=row["uses"],
        valid_from=row["valid_from"].astimezone(zone) if row["valid_from"] else None,
        valid_until=row["valid_until"].astimezone(zone) if row["valid_until"] else None,
        revoked=row["revoked_at"] is not None,
        created_at=row["created_at"],
    )


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Times without an offset are wall-clock times at the event (as for the event's own times); stored in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)
