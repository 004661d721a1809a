"""The kinds of question an organiser can ask."""

from enum import StrEnum


class QuestionKind(StrEnum):
    text = "text"  # free text
    one_choice = "one_choice"
    several_choices = "several_choices"
    yes_no = "yes_no"
