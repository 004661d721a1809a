"""Bearer tokens: each server process remembers a token's user for a few seconds, never longer."""

from datetime import datetime

import httpx
import pytest

from events.accounts import service
from events.accounts.tables import ApiToken


async def test_a_token_revoked_by_another_process_stops_working_within_the_cache_time(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(service, "_clock", lambda: clock[0])
    assert (await client.post("/api/partners", json={"name": "Drop In"}, headers=organiser)).status_code == 201
    # `events token revoke` in another process, or another server worker: this process is not told.
    await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.revoked_at.is_null())
    clock[0] += service.TOKEN_CACHE_SECONDS + 0.01
    refused = await client.post("/api/partners", json={"name": "Drop In 2"}, headers=organiser)
    assert refused.status_code == 401
