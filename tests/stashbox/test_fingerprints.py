"""Fingerprint matching: batches of at most 40 groups, MD5 dropped, phash as hex."""

from __future__ import annotations

import pytest

from stash_sense.stash.models import Fingerprint
from stash_sense.stashbox import (
    MAX_FINGERPRINT_GROUPS,
    StashBoxQueryError,
    fingerprint_query,
    phash_hex,
)
from tests.fakes.stashbox import FakeStashBox, parse_hash

from .conftest import ClientFactory


def _oshash(n: int) -> str:
    return format(n, "016x")


async def test_95_groups_go_out_as_3_requests_and_come_back_in_order(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    catalogue = fake_stashbox.catalogue
    # Every 10th local scene has a stash-box counterpart.
    known = {
        i: catalogue.add_scene(f"S{i}", fingerprints=[("OSHASH", i + 1)]) for i in range(0, 95, 10)
    }
    groups = [[Fingerprint("oshash", _oshash(i + 1))] for i in range(95)]
    client = await make_client(fake_stashbox)

    results = await client.find_scenes_by_fingerprints(groups)

    calls = fake_stashbox.calls_to("FindScenesBySceneFingerprints")
    assert [len(c.variables["fingerprints"]) for c in calls] == [40, 40, 15]
    assert all(len(c.variables["fingerprints"]) <= MAX_FINGERPRINT_GROUPS for c in calls)
    assert len(results) == 95
    for index, scenes in enumerate(results):
        expected = [known[index].id] if index in known else []
        assert [s.id for s in scenes] == expected
        if scenes:
            assert scenes[0].has_fingerprint(groups[index][0])


async def test_md5_is_dropped_and_md5_only_groups_cost_nothing(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    scene = fake_stashbox.catalogue.add_scene("S", fingerprints=[("PHASH", "abc123")])
    md5 = Fingerprint("md5", "d41d8cd98f00b204e9800998ecf8427e")
    client = await make_client(fake_stashbox)

    assert await client.find_scenes_by_fingerprints([[md5], [md5]]) == [[], []]
    assert fake_stashbox.calls == []

    results = await client.find_scenes_by_fingerprints(
        [[md5], [md5, Fingerprint("phash", "abc123")]]
    )

    assert [[s.id for s in group] for group in results] == [[], [scene.id]]
    (call,) = fake_stashbox.calls
    assert call.variables == {"fingerprints": [[{"hash": "abc123", "algorithm": "PHASH"}]]}


async def test_phash_goes_out_as_lowercase_unpadded_hex(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    scene = fake_stashbox.catalogue.add_scene("S", fingerprints=[("PHASH", 0x00ABCDEF12345678)])
    client = await make_client(fake_stashbox)
    phash = Fingerprint("phash", "00ABCDEF12345678")

    (found,) = await client.find_scenes_by_fingerprints(
        [[phash, phash, Fingerprint("PHASH", "0xabcdef12345678")]]
    )

    assert [s.id for s in found] == [scene.id]
    sent = fake_stashbox.calls[0].variables["fingerprints"]
    # Duplicates collapse: one entry per distinct fingerprint.
    assert sent == [[{"hash": "abcdef12345678", "algorithm": "PHASH"}]]
    assert found[0].has_fingerprint(phash)


def test_fingerprint_encoding() -> None:
    assert phash_hex(0xABC) == "abc"
    assert phash_hex(-1) == "ffffffffffffffff"  # a signed int64 read as unsigned
    assert phash_hex("000ABC") == "abc"
    assert fingerprint_query(Fingerprint("oshash", "ABC")) == {
        "hash": "0000000000000abc",
        "algorithm": "OSHASH",
    }
    # MD5, unknown types and values stash-box would reject never go out.
    assert fingerprint_query(Fingerprint("md5", "d41d8cd98f00b204e9800998ecf8427e")) is None
    assert fingerprint_query(Fingerprint("interactive", "1")) is None
    assert fingerprint_query(Fingerprint("phash", "not-hex")) is None
    assert fingerprint_query(Fingerprint("phash", "1" * 17)) is None


async def test_fake_refuses_more_than_40_groups_like_stash_box(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stashbox)
    groups = [[{"hash": _oshash(i), "algorithm": "OSHASH"}] for i in range(41)]
    with pytest.raises(StashBoxQueryError, match="too many scenes"):
        await client.execute("FindScenesBySceneFingerprints", {"fingerprints": groups})
    assert len(fake_stashbox.calls) == 1  # a GraphQL error is never retried


async def test_fake_drops_md5_itself(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stashbox)
    raw = [
        [
            {"hash": "d41d8cd98f00b204e9800998ecf8427e", "algorithm": "MD5"},
            {"hash": "0000000000000abc", "algorithm": "OSHASH"},
        ]
    ]
    data = await client.execute("FindScenesBySceneFingerprints", {"fingerprints": raw})
    assert data == {"findScenesBySceneFingerprints": [[]]}
    assert fake_stashbox.received_groups == [[[("OSHASH", parse_hash("abc"))]]]
