"""Password hashing with Argon2id (OWASP's first recommended configuration: 19 MiB, 2 passes, 1 lane)."""

from __future__ import annotations

from functools import lru_cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from events.i18n import N_

# argon2-cffi's default takes 64 MiB for each hash, held in the serving process while it runs (seconds on a busy
# machine): one sign-in took a worker from about 150 MB to 215 MB, over its 200 MB budget (bench/soak.py), and two at
# once in one worker would take 128 MiB. OWASP's configurations are of equal strength and trade memory for passes;
# this is its first. Hashes made with other parameters still verify, and a sign-in re-hashes them (needs_rehash).
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# What hashes and checks; the in-process test app swaps in a cheaper one (tests/conftest.py).
_hasher = HASHER
MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a miss costs the same time as a wrong password."""
    return _hasher.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Argon2id at these parameters costs a tenth to a quarter of a second of CPU (64 MiB, 3 passes, 4 lanes). On the
# event loop that stalls every other request of the serve process (a door's check-ins) for as long, at each sign-in.
# argon2-cffi lets go of the GIL while it hashes, so a worker thread runs it beside the loop: no process pool needed
# (events.cpu is for work that holds the GIL, such as drawing PDFs).


async def hash_password_in_thread(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_in_thread(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("Passwords need at least 10 characters.")  # MIN_PASSWORD_LENGTH, written out so it can be translated
    return None
