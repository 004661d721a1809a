"""Messages to guests: an organiser writes to all of an event's guests, or those with tickets of chosen types
(e.g. "the venue has changed"), by email or text, in each guest's language where a version is given."""
