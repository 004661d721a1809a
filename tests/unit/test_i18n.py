from events import i18n


def test_an_explicit_choice_beats_the_cookie_which_beats_the_browser() -> None:
    assert i18n.negotiate_locale("ar", "fr", "fa") == "ar"
    assert i18n.negotiate_locale(None, "fr", "fa") == "fr"
    assert i18n.negotiate_locale(None, None, "de-DE,fa;q=0.8,en;q=0.5") == "fa"
    assert i18n.negotiate_locale("xx", None, "fr-CA") == "fr"
    assert i18n.negotiate_locale(None, None, None) == "en"


def test_arabic_and_farsi_read_right_to_left() -> None:
    assert i18n.text_direction("ar") == "rtl"
    assert i18n.text_direction("fa") == "rtl"
    assert i18n.text_direction("fr") == "ltr"


def test_each_language_is_named_in_itself() -> None:
    names = dict(i18n.language_names())
    assert names["ar"] == "العربية"
    assert names["fr"] == "Français"
    assert names["fa"] == "فارسی"
