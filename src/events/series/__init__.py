"""Repeat events: copying an event's set-up into a new draft, and series (e.g. "First Thursday supper club") that
link events, list the upcoming ones and add up their statements."""
