"""The organiser's back office: event overviews (more of it arrives with the back-office issue)."""
