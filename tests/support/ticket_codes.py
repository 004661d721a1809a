"""The signed codes of an order's tickets, read from a live server's database in a subprocess.

Browser tests scan these codes. A subprocess keeps the test process's own database binding (the shared
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
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reading ticket codes failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout)


async def _print_codes(reference: str) -> None:
    from events import db
    from events.config import load_settings
    from events.tickets.views import tickets_of_order

    settings = load_settings()
    async with db.bound(settings.database_url):
        tickets = await tickets_of_order(reference, secret_key=settings.secret_key, now=datetime.now(timezone.utc))
    print(json.dumps([{"id": t.id, "secret": t.secret, "code": t.code, "holder": t.holder, "type": t.type_name} for t in tickets]))


if __name__ == "__main__":
    asyncio.run(_print_codes(sys.argv[1]))
