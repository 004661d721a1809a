""" "Can't come?": a guest gives back a free place, has a paid place refunded, donates it, or passes it to a friend."""
