"""Put a door-staff login on an event's door team, in a live server's database, in a subprocess.

Until the back office can do it in the browser, browser tests set up the door team this way. A subprocess keeps
the test process's own database binding (the shared ``app`` fixture's) untouched. Run as
``python -m tests.support.door_staff EMAIL EVENT_SLUG`` with the server's environment.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.support.ticket_codes import PROJECT_ROOT


def assign_door_staff(env: dict[str, str], email: str, slug: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.door_staff", email, slug],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"assigning door staff failed:\n{result.stdout}\n{result.stderr}")


async def _assign(email: str, slug: str) -> None:
    from events import db
    from events.accounts.tables import User
    from events.catalogue.tables import Event
    from events.checkin import door_team
    from events.config import load_settings

    async with db.bound(load_settings().database_url):
        user = await User.select(User.id).where(User.email == email).first()
        event = await Event.select(Event.id).where(Event.slug == slug).first()
        if user is None or event is None:
            raise SystemExit(f"no user {email} or no event {slug}")
        await door_team.assign_door_staff(event["id"], user["id"])


if __name__ == "__main__":
    asyncio.run(_assign(sys.argv[1], sys.argv[2]))
