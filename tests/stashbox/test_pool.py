"""StashBoxPool: endpoints from Stash, found by URL or domain, disabled ones left out."""

from __future__ import annotations

import logging

import pytest

from stash_sense.config.model import StashConfig
from stash_sense.stash import StashBox, StashClient
from stash_sense.stashbox import DisabledEndpoints, StashBoxPool, domain_of, normalize_endpoint
from tests.fakes.stash import StashBoxConfig
from tests.fakes.stash.fixtures import FakeStashFactory
from tests.fakes.stashbox.fixtures import FakeStashBoxFactory

STASHDB = StashBox("https://stashdb.org/graphql", "StashDB", 0, "k1")
FANSDB = StashBox("https://fansdb.cc/graphql", "FansDB", 60, "k2")
TPDB = StashBox("https://theporndb.net/graphql", "ThePornDB", 240, "k3")


def test_domains_and_endpoint_forms() -> None:
    assert domain_of("https://www.StashDB.org/graphql") == "stashdb.org"
    assert domain_of("http://127.0.0.1:9998/graphql") == "127.0.0.1"
    assert normalize_endpoint("HTTPS://StashDB.org/graphql/") == "https://stashdb.org/graphql"


async def test_pool_maps_urls_and_domains() -> None:
    async with StashBoxPool([STASHDB, FANSDB, TPDB]) as pool:
        stashdb = pool.for_domain("stashdb.org")
        assert stashdb is not None and stashdb.endpoint == STASHDB.endpoint
        assert pool.for_domain("WWW.stashdb.org") is stashdb
        assert pool.for_endpoint("https://stashdb.org/graphql/") is stashdb
        assert pool.get("https://stashdb.org/graphql") is stashdb
        assert pool.get("fansdb.cc") is pool.for_endpoint(FANSDB.endpoint)
        assert pool.for_domain("pmvstash.org") is None
        assert pool.for_endpoint("https://stashdb.org/other") is None
        assert "theporndb.net" in pool and "nowhere.example" not in pool
        assert len(pool) == 3 and pool.domains == ("stashdb.org", "fansdb.cc", "theporndb.net")
        assert [c.endpoint for c in pool] == [b.endpoint for b in (STASHDB, FANSDB, TPDB)]


async def test_rate_limit_follows_stash_then_the_cap() -> None:
    async with StashBoxPool([STASHDB, FANSDB]) as pool:
        rates = [c.requests_per_minute for c in pool]
    assert rates == [240, 60]  # Stash's 0 means its default of 240
    async with StashBoxPool([STASHDB, FANSDB, TPDB], requests_per_minute=100) as capped:
        assert [c.requests_per_minute for c in capped] == [100, 60, 100]


async def test_disabled_and_keyless_endpoints_get_no_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    keyless = StashBox("https://pmvstash.org/graphql", "PMV", 0, "")
    disabled = ["fansdb.cc", "https://theporndb.net/graphql/"]
    async with StashBoxPool([STASHDB, FANSDB, TPDB, keyless], disabled_endpoints=disabled) as pool:
        assert [c.endpoint for c in pool] == [STASHDB.endpoint]
        assert pool.for_domain("fansdb.cc") is None
        assert pool.for_endpoint(TPDB.endpoint) is None and pool.for_domain("theporndb.net") is None
        assert pool.get("pmvstash.org") is None
        assert pool.is_disabled("https://www.fansdb.cc/graphql")
        assert pool.is_disabled("theporndb.net") is False  # disabled by URL, not by domain
        assert not pool.is_disabled("stashdb.org")
    assert "FansDB: disabled" in caplog.text and "PMV: Stash has no API key" in caplog.text
    assert "k2" not in caplog.text


async def test_pool_from_stash_reaches_its_stash_box(
    fake_stash_factory: FakeStashFactory, fake_stashbox_factory: FakeStashBoxFactory
) -> None:
    box = await fake_stashbox_factory()
    other = await fake_stashbox_factory()
    performer = box.catalogue.add_performer("Jane")
    stash = await fake_stash_factory()
    stash.library.stash_boxes += [
        StashBoxConfig(endpoint=box.graphql_url, api_key=box.api_key, name="Box"),
        StashBoxConfig(endpoint=other.graphql_url, api_key=other.api_key, name="Other"),
    ]
    async with StashClient(StashConfig(url=stash.url)) as client:
        pool = await StashBoxPool.from_stash(client, disabled_endpoints=[other.graphql_url])

    async with pool:
        stashbox = pool.get(f"127.0.0.1:{box.port}")
        assert stashbox is not None and pool.get(box.graphql_url) is stashbox
        found = await stashbox.find_performer(performer.id)
        assert found is not None and found.name == "Jane"
        assert pool.get(other.graphql_url) is None
    assert other.calls == [] and len(box.calls) == 1


def test_disabled_endpoints_by_url_or_domain() -> None:
    """One check of `disabled_endpoints`: a URL entry names one endpoint, a domain all of it."""
    disabled = DisabledEndpoints(["fansdb.cc", "https://theporndb.net/graphql/", " "])
    assert disabled.disabled("https://www.FansDB.cc/graphql")
    assert disabled.disabled("fansdb.cc")
    assert disabled.disabled("https://theporndb.net/graphql")
    assert not disabled.disabled("https://theporndb.net/other")
    assert not disabled.disabled("theporndb.net")
    # Face-database results name only a domain: any entry for it turns them off.
    assert disabled.domain_disabled("theporndb.net")
    assert disabled.domain_disabled("fansdb.cc")
    assert not disabled.domain_disabled("stashdb.org")
