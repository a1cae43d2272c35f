"""Stash Sense: identify performers in Stash scenes and curate the library."""

__version__ = "0.1.0"
