"""Organisations: the charities and groups that run events on one service, with their public details, branding
and charity details. Everything an organiser manages belongs to exactly one of them."""
