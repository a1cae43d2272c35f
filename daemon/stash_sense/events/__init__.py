"""Stash events: the hook endpoint, subscriptions and the reconciler."""
