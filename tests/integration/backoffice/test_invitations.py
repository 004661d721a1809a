"""Teams and roles per organisation: an owner invites people by email (the link is made when the email is sent, works
once, for 7 days, and can be revoked or replaced); a new person sets a password, someone with an account proves it is
theirs, and either is signed in acting for the organisation; invitations are rate-limited and another organisation's
are not found. Roles change only by an owner, never leaving an organisation without one; people on several teams
switch between them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
from litestar import Litestar

from events.accounts import service
from events.accounts.tables import AccountMessage, Invitation, Membership, User
from events.audit.tables import AuditEntry
from events.backoffice import invitations
from events.catalogue.tables import EventAccess
from events.checkin.tables import DoorAssignment
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.tickets.outbox import drain_outbox
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.accounts.test_passwords import mail  # noqa: F401 - the SMTP fixture
from tests.integration.accounts.test_sign_ins import FIREFOX_ANDROID, another_browser, csrf
from tests.integration.tickets.test_email import SmtpServer

PASSWORD = "a long password"


async def owner_signed_in(client: httpx.AsyncClient, email: str = "owner@test.example") -> int:
    default = await organisations.find(organisations.DEFAULT_SLUG)
    owner = await service.create_user(email, role="owner", password=PASSWORD, display_name="Olu", organisation_id=default.id)
    await sign_in(client, email, PASSWORD)
    return owner.id


async def invitation_link(mail: SmtpServer) -> str:  # noqa: F811
    """The path of the link in the newest email, sent now by the worker's job."""
    assert await drain_outbox(datetime.now(timezone.utc), settings=mail.settings) >= 1
    message = mail.inbox.messages()[-1]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"http://\S+(/invitations/\S+)", text)
    assert match, text
    return match.group(1)


async def invite_by_form(client: httpx.AsyncClient, **fields: str | list[str]) -> httpx.Response:
    page = await client.get("/manage/people")
    return await client.post("/manage/people/invitations", data={"_csrf_token": csrf(page.text), **fields})


async def test_a_new_person_is_invited_sets_a_password_and_lands_in_the_back_office(
    client: httpx.AsyncClient,
    app: Litestar,
    mail: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    await owner_signed_in(client)
    supper, _ = await make_event(now), await make_event(now, slug="quiz-night", title="Quiz Night")
    page = await client.get("/manage/people")
    assert "Invite someone" in page.text and "Quiz Night" in page.text
    sent = await invite_by_form(client, email="Amal@Test.Example", role="organiser", events=[supper])
    assert sent.status_code == 303 and sent.headers["location"] == "/manage/people?notice=invited"
    listed = await client.get(sent.headers["location"])
    assert "Invitation sent." in listed.text and "amal@test.example" in listed.text and "1 event" in listed.text
    assert (await Invitation.select(Invitation.token_hash).first())["token_hash"] is None  # no link until the email goes

    link = await invitation_link(mail)
    message = mail.inbox.messages()[-1]
    assert (
        message["To"] == "amal@test.example"
        and "Olu has invited you to join Our charity" in message.get_body(preferencelist=("plain",)).get_content()
    )  # type: ignore[union-attr]
    token = link.rsplit("/", 1)[1]
    row = await Invitation.select(Invitation.token_hash, Invitation.expires_at).first()
    assert row["token_hash"] != token and len(row["token_hash"]) == 64  # only the hash is kept
    assert timedelta(days=6, hours=23) < row["expires_at"] - datetime.now(timezone.utc) <= timedelta(days=7)

    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        offer = await theirs.get(link)
        assert offer.status_code == 200 and "Join Our charity" in offer.text and "organiser" in offer.text
        short = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "display_name": "Amal", "password": "short"})
        assert short.status_code == 422 and "Passwords need at least 10 characters." in short.text
        assert await User.count().where(User.email == "amal@test.example") == 0
        joined = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "display_name": "Amal", "password": PASSWORD})
        assert joined.status_code == 303 and joined.headers["location"] == "/manage"
        manage = await theirs.get("/manage")
        assert manage.status_code == 200 and "Amal" in manage.text
        # Limited to the chosen event: the other is not found.
        assert (await theirs.get(f"/manage/events/{supper}")).status_code == 200
        assert (await theirs.get("/manage/events/quiz-night")).status_code == 404

        # The link worked once.
        again = await theirs.get(link)
        assert again.status_code == 410 and "already been accepted" in again.text
        reused = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "display_name": "Eve", "password": PASSWORD})
        assert reused.status_code == 410
    amal = await User.select(User.id).where(User.email == "amal@test.example").first()
    membership = await Membership.select(Membership.role, Membership.restricted).where(Membership.user == amal["id"]).first()
    assert membership == {"role": "organiser", "restricted": True}
    assert await EventAccess.count() == 1
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action).where(AuditEntry.subject_type != "event").order_by(AuditEntry.id)]
    assert [action for action in actions if action.startswith("invitation.")] == ["invitation.sent", "invitation.accepted"]


async def test_someone_with_an_account_proves_it_and_joins_a_second_organisation_then_switches(
    client: httpx.AsyncClient,
    app: Litestar,
    mail: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    other = await organisations.create_organisation("kitchen", OrganisationDetails(name="Kitchen Collective"))
    sam = await service.create_user("sam@test.example", role="organiser", password=PASSWORD, display_name="Sam", organisation_id=other.id)
    await owner_signed_in(client)
    token = await service.create_api_token("owner@test.example", now=now)
    slug = await make_event(now, organisation=organisations.DEFAULT_SLUG)
    made = await client.post(
        "/api/invitations", json={"email": "sam@test.example", "role": "door", "events": [slug]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "door" and made.json()["state"] == "pending" and "token" not in made.text
    link = await invitation_link(mail)

    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        offer = await theirs.get(link)
        assert "already has an account" in offer.text and 'name="display_name"' not in offer.text
        wrong = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "password": "not my password"})
        assert wrong.status_code == 422 and "That is not the password of your account." in wrong.text
        joined = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "password": PASSWORD})
        assert joined.status_code == 303 and joined.headers["location"] == "/account?notice=joined"
        account = await theirs.get(joined.headers["location"])
        assert "Welcome: you have joined the team." in account.text
        assert "Kitchen Collective" in account.text and "Our charity" in account.text
        # The header lists both organisations, each a POST form.
        assert account.text.count('action="/account/organisation"') >= 3
        # On the chosen event's door team.
        assert await DoorAssignment.count().where(DoorAssignment.user == sam.id) == 1
        assert (await theirs.get(f"/door/{slug}")).status_code == 200

        # Switching to the other organisation: its back office, as organiser there.
        switched = await theirs.post("/account/organisation", data={"_csrf_token": csrf(account.text), "organisation_id": str(other.id)})
        assert switched.status_code == 303 and switched.headers["location"] == "/manage"
        assert (await theirs.get("/manage")).status_code == 200
        assert (await theirs.get(f"/door/{slug}")).status_code in (403, 404)  # the first organisation's event, not theirs here
        # An organisation they are not on is not found, and nothing changes.
        stranger = await organisations.create_organisation("strangers", OrganisationDetails(name="Strangers"))
        refused = await theirs.post("/account/organisation", data={"_csrf_token": csrf(account.text), "organisation_id": str(stranger.id)})
        assert refused.status_code == 404
        assert (await theirs.get("/manage")).status_code == 200
    assert await Membership.count().where(Membership.user == sam.id) == 2


async def test_expired_revoked_and_replaced_links_say_so(
    client: httpx.AsyncClient,
    mail: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    await owner_signed_in(client)
    token = await service.create_api_token("owner@test.example", now=now)
    headers = {"Authorization": f"Bearer {token}"}

    await client.post("/api/invitations", json={"email": "late@test.example", "role": "organiser"}, headers=headers)
    late = await invitation_link(mail)
    await Invitation.update({Invitation.expires_at: datetime.now(timezone.utc) - timedelta(minutes=1)}).where(Invitation.email == "late@test.example")
    expired = await client.get(late)
    assert expired.status_code == 410 and "This invitation has expired" in expired.text

    made = await client.post("/api/invitations", json={"email": "gone@test.example", "role": "door"}, headers=headers)
    gone = await invitation_link(mail)
    revoked = await client.delete(f"/api/invitations/{made.json()['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    page = await client.get(gone)
    assert page.status_code == 410 and "This invitation was withdrawn" in page.text

    # Re-inviting replaces the old link.
    await client.post("/api/invitations", json={"email": "twice@test.example", "role": "door"}, headers=headers)
    first = await invitation_link(mail)
    await client.post("/api/invitations", json={"email": "twice@test.example", "role": "organiser"}, headers=headers)
    second = await invitation_link(mail)
    assert (await client.get(first)).status_code == 410
    offer = await client.get(second)
    assert offer.status_code == 200 and "organiser" in offer.text
    assert (await client.get("/invitations/not-a-real-token")).status_code == 404

    # Sending again makes a new link; the one before stops working.
    listed = await client.get("/api/invitations", headers=headers)
    [pending] = [row for row in listed.json() if row["email"] == "twice@test.example"]
    people = await client.get("/manage/people")
    resent = await client.post(f"/manage/people/invitations/{pending['id']}/resend", data={"_csrf_token": csrf(people.text)})
    assert resent.status_code == 303
    third = await invitation_link(mail)
    assert third != second and (await client.get(second)).status_code == 404 and (await client.get(third)).status_code == 200
    actions = {row["action"] for row in await AuditEntry.select(AuditEntry.action)}
    assert {"invitation.sent", "invitation.revoked", "invitation.resent"} <= actions


async def test_invitations_are_rate_limited_per_organisation(client: httpx.AsyncClient, now: datetime) -> None:
    await service.create_user("owner@test.example", role="owner", password=PASSWORD)
    headers = {"Authorization": f"Bearer {await service.create_api_token('owner@test.example', now=now)}"}
    for number in range(invitations.INVITES_PER_ORGANISATION):
        made = await client.post("/api/invitations", json={"email": f"p{number}@test.example", "role": "door"}, headers=headers)
        assert made.status_code == 201
    refused = await client.post("/api/invitations", json={"email": "one-more@test.example", "role": "door"}, headers=headers)
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited" and "Retry-After" in refused.headers
    assert await Invitation.count() == invitations.INVITES_PER_ORGANISATION


async def test_only_owners_invite_and_another_organisations_invitation_is_not_found(client: httpx.AsyncClient, now: datetime) -> None:
    await service.create_user("owner@test.example", role="owner", password=PASSWORD)
    await service.create_user("organiser@test.example", role="organiser", password=PASSWORD)
    other = await organisations.create_organisation("kitchen", OrganisationDetails(name="Kitchen Collective"))
    await service.create_user("rival@test.example", role="owner", password=PASSWORD, organisation_id=other.id)
    owner = {"Authorization": f"Bearer {await service.create_api_token('owner@test.example', now=now)}"}
    organiser = {"Authorization": f"Bearer {await service.create_api_token('organiser@test.example', now=now)}"}
    rival = {"Authorization": f"Bearer {await service.create_api_token('rival@test.example', now=now)}"}

    assert (await client.post("/api/invitations", json={"email": "x@test.example", "role": "door"}, headers=organiser)).status_code == 403
    made = await client.post("/api/invitations", json={"email": "x@test.example", "role": "door"}, headers=owner)
    theirs = await client.delete(f"/api/invitations/{made.json()['id']}", headers=rival)
    assert theirs.status_code == 404 and theirs.json()["error"] == "invitation_not_found"
    assert (await client.delete("/api/invitations/99999", headers=owner)).status_code == 404
    # Events and partner projects of another organisation are refused as unknown.
    await make_event(now, organisation="kitchen", slug="kitchen-supper", beneficiaries=[{"partner": "kitchen-fund", "share_bp": 10000}])
    foreign = await client.post("/api/invitations", json={"email": "y@test.example", "role": "door", "events": ["kitchen-supper"]}, headers=owner)
    assert foreign.status_code == 422 and "events" in foreign.json()["fields"]
    viewer = await client.post(
        "/api/invitations", json={"email": "y@test.example", "role": "partner_viewer", "partner": "kitchen-fund"}, headers=owner
    )
    assert viewer.status_code == 422 and "partner" in viewer.json()["fields"]
    member = await client.post("/api/invitations", json={"email": "organiser@test.example", "role": "door"}, headers=owner)
    assert member.status_code == 409 and member.json()["error"] == "already_member"
    revoked = await client.delete(f"/api/invitations/{made.json()['id']}", headers=owner)
    assert revoked.status_code == 200
    assert await AccountMessage.count().where(AccountMessage.status == "queued") == 0  # its unsent email is not sent


async def test_owners_change_roles_but_never_their_own(client: httpx.AsyncClient, app: Litestar) -> None:
    me = await owner_signed_in(client)
    volunteer = await service.create_user("vol@test.example", role="door", password=PASSWORD, display_name="Vol")
    page = await client.get(f"/manage/people/{volunteer.id}")
    assert "Change role" in page.text
    changed = await client.post(f"/manage/people/{volunteer.id}/role", data={"_csrf_token": csrf(page.text), "role": "owner"})
    assert changed.status_code == 303 and changed.headers["location"].endswith("notice=role_changed")
    # Two owners now: one may make the other an organiser again.
    page = await client.get(f"/manage/people/{volunteer.id}")
    assert (await client.post(f"/manage/people/{volunteer.id}/role", data={"_csrf_token": csrf(page.text), "role": "organiser"})).status_code == 303
    mine = await client.post(f"/manage/people/{me}/role", data={"_csrf_token": csrf(page.text), "role": "organiser"})
    assert mine.status_code == 403 and "You cannot change your own role" in mine.text
    [entry, _] = await AuditEntry.select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action == "user.role_changed").order_by(AuditEntry.id)
    assert '"door"' in str(entry["before"]) and '"owner"' in str(entry["after"])

    # An organiser sees the team but cannot invite or change roles.
    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        await sign_in(theirs, "vol@test.example", PASSWORD)
        people = await theirs.get("/manage/people")
        assert people.status_code == 200 and "Invite someone" not in people.text
        assert (
            await theirs.post("/manage/people/invitations", data={"_csrf_token": csrf(people.text), "email": "z@test.example"})
        ).status_code == 403
        assert (await theirs.post(f"/manage/people/{me}/role", data={"_csrf_token": csrf(people.text), "role": "door"})).status_code == 403


async def test_a_partner_viewer_is_invited_to_see_one_partner_project(
    client: httpx.AsyncClient,
    app: Litestar,
    mail: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    await owner_signed_in(client)
    await make_event(now)
    form = await invite_by_form(client, email="viewer@test.example", role="partner_viewer")
    assert form.status_code == 422 and "Choose the partner project a partner viewer sees." in form.text  # nothing sent
    sent = await invite_by_form(client, email="viewer@test.example", role="partner_viewer", partner="welcome-kitchen")
    assert sent.status_code == 303
    link = await invitation_link(mail)
    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        offer = await theirs.get(link)
        joined = await theirs.post(link, data={"_csrf_token": csrf(offer.text), "display_name": "Vee", "password": PASSWORD})
        assert joined.headers["location"] == "/account?notice=joined"
        assert (await theirs.get("/manage/partners/welcome-kitchen/statement")).status_code == 200
        assert (await theirs.get("/manage/partners/welcome-cinema/statement")).status_code in (403, 404)
        assert (await theirs.get("/manage/people")).status_code == 403
