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


def test_short_passwords_are_refused() -> None:
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem("long enough pass") is None


def test_admins_pass_every_role_check_and_others_only_their_own() -> None:
    admin = CurrentUser(id=1, email="a@x", display_name="", role="owner")
    door = CurrentUser(id=2, email="d@x", display_name="", role="door")
    assert admin.has_role("organiser")
    assert door.has_role("door")
    assert not door.has_role("organiser")
