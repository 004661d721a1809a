"""Bearer tokens are read from the database on every request: revoked anywhere, refused everywhere at once."""

from datetime import datetime

import httpx

from events.accounts.tables import ApiToken


async def test_a_token_revoked_by_another_process_stops_working_on_its_next_request(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    assert (await client.post("/api/partners", json={"name": "Drop In"}, headers=organiser)).status_code == 201
    # `events token revoke` in another process, or another server worker: this process is not told, and need not be.
    await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.revoked_at.is_null())
    refused = await client.post("/api/partners", json={"name": "Drop In 2"}, headers=organiser)
    assert refused.status_code == 401
