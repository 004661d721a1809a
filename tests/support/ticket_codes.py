"""The signed codes of an order's tickets, read from a live server's database in a subprocess.

Browser tests scan these codes, and each ticket's code in the format issued before EVT2 (``legacy_code``,
signed with the same key). A subprocess keeps the test process's own database binding (the shared
``app`` fixture's) untouched. Run as ``python -m tests.support.ticket_codes REFERENCE`` with the server's
environment; prints a JSON list.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def ticket_codes(env: dict[str, str], reference: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.ticket_codes", reference],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reading ticket codes failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout)


async def _print_codes(reference: str) -> None:
    from events import db
    from events.config import load_settings
    from events.tickets.keys import current_signing_key
    from events.tickets.signing import read_claims
    from events.tickets.views import tickets_of_order
    from tests.support.legacy_codes import legacy_code

    settings = load_settings()
    now = datetime.now(timezone.utc)
    async with db.bound(settings.database_url):
        tickets = await tickets_of_order(reference, secret_key=settings.secret_key, now=now)
        found = []
        for t in tickets:
            claims = read_claims(t.code)
            _, private_key = await current_signing_key(claims.event_id, secret_key=settings.secret_key, now=now)
            found.append(
                {
                    "id": t.id,
                    "secret": t.secret,
                    "code": t.code,
                    "legacy_code": legacy_code(claims, private_key),
                    "holder": t.holder,
                    "type": t.type_name,
                }
            )
    print(json.dumps(found))


if __name__ == "__main__":
    asyncio.run(_print_codes(sys.argv[1]))
