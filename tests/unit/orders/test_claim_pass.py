"""A claim pass proves a browser opened a claim code's page: it is made only from the code and the server secret."""

from events.orders.codes import claim_pass, claim_pass_matches

SECRET = "s" * 40


def test_a_pass_matches_its_own_code_however_it_was_typed() -> None:
    issued = claim_pass(SECRET, "abcdefghjkmnpqrstuvw")
    assert claim_pass_matches(SECRET, " ABCDEFGHJKMNPQRSTUVW ", issued)


def test_a_pass_is_worthless_for_another_code_or_under_another_secret() -> None:
    issued = claim_pass(SECRET, "abcdefghjkmnpqrstuvw")
    assert not claim_pass_matches(SECRET, "abcdefghjkmnpqrstuvx", issued)
    assert not claim_pass_matches("t" * 40, "abcdefghjkmnpqrstuvw", issued)


def test_missing_or_malformed_passes_do_not_match() -> None:
    for presented in (None, "", "ö" * 43, claim_pass(SECRET, "abcdefghjkmnpqrstuvw")[:-1]):
        assert not claim_pass_matches(SECRET, "abcdefghjkmnpqrstuvw", presented)
