"""Fixtures shared by every test package."""

from tests.fakes.stash.fixtures import fake_stash, fake_stash_factory

__all__ = ["fake_stash", "fake_stash_factory"]
