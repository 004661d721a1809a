import asyncio
import threading

import pytest
from argon2 import PasswordHasher

from events.accounts import passwords
from events.accounts.roles import CurrentUser


def test_passwords_are_stored_as_argon2id_hashes_and_verify() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong horse battery")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not-a-hash", "anything at all")


async def test_a_password_is_checked_beside_the_event_loop_not_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id takes a tenth of a second or more of CPU: the event loop goes on serving meanwhile. The check waits (up
    to 20 s) for a coroutine that can only run while the check is under way; run on the loop instead, it would wait
    those 20 s out and the two would finish in the other order."""
    stored = passwords.hash_password("correct horse battery")
    checking = threading.Event()
    loop_ran = threading.Event()
    finished: list[str] = []
    hasher = passwords._hasher

    class WatchedHasher:
        def verify(self, password_hash: str, password: str) -> bool:
            checking.set()
            loop_ran.wait(timeout=20)
            finished.append("password checked")
            return hasher.verify(password_hash, password)

    monkeypatch.setattr(passwords, "_hasher", WatchedHasher())

    async def another_request() -> None:
        while not checking.is_set():
            await asyncio.sleep(0.005)
        finished.append("another request answered")
        loop_ran.set()

    matched, _ = await asyncio.gather(passwords.verify_password_in_thread(stored, "correct horse battery"), another_request())
    assert matched
    assert finished == ["another request answered", "password checked"]


async def test_hashing_in_a_thread_gives_a_hash_that_verifies() -> None:
    stored = await passwords.hash_password_in_thread("a new password")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password_in_thread(stored, "a new password")
    assert not await passwords.verify_password_in_thread(stored, "another password")


def test_a_hash_takes_19_mib_not_64_and_hashes_made_with_the_old_parameters_still_verify_and_are_renewed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hash holds its memory in the serving worker while it runs: 64 MiB (argon2-cffi's default) took a worker
    over its 200 MB budget in the soak (bench/soak.py). The parameters are written in the hash itself. (The hasher
    the app runs with, not the cheaper one the in-process test app swaps in while it runs.)"""
    monkeypatch.setattr(passwords, "_hasher", passwords.HASHER)
    stored = passwords.hash_password("correct horse battery")
    assert "$m=19456,t=2,p=1$" in stored
    assert not passwords.needs_rehash(stored)
    older = PasswordHasher().hash("correct horse battery")  # argon2-cffi's default: 64 MiB, 3 passes, 4 lanes
    assert "$m=65536," in older
    assert passwords.verify_password(older, "correct horse battery")
    assert not passwords.verify_password(older, "wrong horse battery")
    assert passwords.needs_rehash(older)  # so the next sign-in stores it with the new parameters


def test_short_passwords_are_refused() -> None:
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem("long enough pass") is None


def test_owners_pass_every_role_check_others_only_their_own_and_nobody_without_an_organisation() -> None:
    owner = CurrentUser(id=1, email="a@x", display_name="", role="owner", organisation_id=1)
    door = CurrentUser(id=2, email="d@x", display_name="", role="door", organisation_id=1)
    # Someone whose memberships all ended (or whose organisation is suspended) acts in none.
    nowhere = CurrentUser(id=3, email="n@x", display_name="", role="", organisation_id=None)
    assert owner.has_role("organiser")
    assert door.has_role("door")
    assert not door.has_role("organiser")
    assert not nowhere.has_role("organiser") and not nowhere.has_role("door")
