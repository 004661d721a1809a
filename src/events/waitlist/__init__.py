"""Waiting lists: guests who want paid places of a sold-out event, or free places once a referral link's run out,
and the time-limited offers that give them the places that free up, in the order they joined."""
