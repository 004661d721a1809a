from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-06T21:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Every refund made before records what it gave back of each part of the order's money, as the ledger booked it"

BATCH = 500
COMPONENTS = ("tickets", "booking_fees", "contributions", "donations")
COLUMNS = ("tickets_pence", "booking_fees_pence", "contributions_pence", "donations_pence")


async def _run(sql: str) -> list:
    engine = engine_finder()
    assert engine is not None
    return await engine.run_ddl(sql)


def _split(total: int, weights: list[int]) -> list[int]:
    """The largest-remainder split the ledger used for refunds until this day (events.money.split_pence, copied so
    that this migration keeps doing what it did whatever that code becomes)."""
    if total < 0:
        return [-part for part in _split(-total, weights)]
    weight_sum = sum(weights)
    floors = [total * weight // weight_sum for weight in weights]
    remainders = [total * weight % weight_sum for weight in weights]
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[: total - sum(floors)]:
        floors[index] += 1
    return floors


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def record_each_refunds_parts() -> None:
        # A refund the ledger has booked keeps exactly the entries it booked (so the ledger and the refund agree). One
        # not booked (pending, failed) gets the split the ledger would have made: in proportion to the order's parts,
        # less what the guest donated instead of taking back. Only integers are written.
        last = 0
        while True:
            rows = await _run(
                "SELECT r.id, r.amount_pence, o.tickets_pence, o.booking_fees_pence, o.pay_it_forward_pence, o.donation_pence, "
                "(SELECT COALESCE(SUM(x.tickets_pence), 0) FROM refund_donation x WHERE x.order_id = o.id) AS donated_tickets, "
                "(SELECT COALESCE(SUM(x.booking_fees_pence), 0) FROM refund_donation x WHERE x.order_id = o.id) AS donated_fees "
                f"FROM refund r JOIN ticket_order o ON o.id = r.order_id WHERE r.id > {int(last)} ORDER BY r.id LIMIT {BATCH}"
            )
            if not rows:
                break
            last = rows[-1]["id"]
            sources = ", ".join(f"'refund:{int(row['id'])}:{component}'" for row in rows for component in COMPONENTS)
            booked: dict[int, list[int]] = {}
            for entry in await _run(f"SELECT source, amount_pence FROM ledger_entry WHERE source IN ({sources})"):
                _, refund_id, component = entry["source"].split(":")
                booked.setdefault(int(refund_id), [0, 0, 0, 0])[COMPONENTS.index(component)] = -int(entry["amount_pence"])
            values = []
            for row in rows:
                parts = booked.get(int(row["id"]))
                if parts is None:
                    weights = [
                        max(0, int(row["tickets_pence"]) - int(row["donated_tickets"])),
                        max(0, int(row["booking_fees_pence"]) - int(row["donated_fees"])),
                        max(0, int(row["pay_it_forward_pence"])),
                        max(0, int(row["donation_pence"])),
                    ]
                    amount = int(row["amount_pence"])
                    parts = _split(amount, weights) if sum(weights) else [amount, 0, 0, 0]
                values.append(f"({int(row['id'])}, {', '.join(str(int(part)) for part in parts)})")
            assignments = ", ".join(f"{column} = (SELECT made.{column} FROM made WHERE made.id = refund.id)" for column in COLUMNS)
            await _run(
                f"WITH made (id, {', '.join(COLUMNS)}) AS (VALUES {', '.join(values)}) "
                f"UPDATE refund SET {assignments} WHERE id IN (SELECT id FROM made)"
            )

    manager.add_raw(record_each_refunds_parts)
    return manager
