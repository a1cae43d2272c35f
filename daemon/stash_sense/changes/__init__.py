"""Change notifications for live views (job progress, review items, identifications, writes).

Not to be confused with Stash events (`events/`): these are the daemon's own state
changes, published in-process for the plugin UI's WebSocket.
"""

from stash_sense.changes.hub import Change, ChangeHub, Resync, Subscription, Topic

__all__ = ["Change", "ChangeHub", "Resync", "Subscription", "Topic"]
