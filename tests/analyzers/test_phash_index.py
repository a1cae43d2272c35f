"""The phash index finds exactly the pairs brute force finds, without comparing all pairs."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stash_sense.analyzers.phash_index import (
    HashPairs,
    Part,
    PhashIndex,
    hamming,
    parse_phash,
    plan_parts,
)

U64 = 2**64


def brute(hashes: list[int], max_distance: int) -> set[tuple[int, int, int]]:
    """Compare every pair."""
    arr = np.asarray(hashes, dtype=np.uint64)
    out = set()
    for i in range(len(hashes) - 1):
        dist = np.bitwise_count(arr[i] ^ arr[i + 1 :])
        for j in np.flatnonzero(dist <= max_distance):
            out.add((i, i + 1 + int(j), int(dist[j])))
    return out


def as_set(pairs: HashPairs) -> set[tuple[int, int, int]]:
    """Turn index output into comparable triples."""
    return set(
        zip(pairs.first.tolist(), pairs.second.tolist(), pairs.distance.tolist(), strict=True)
    )


def flip(rng: np.random.Generator, value: int, bits: int) -> int:
    """Flip `bits` distinct random bits."""
    for b in rng.choice(64, size=bits, replace=False):
        value ^= 1 << int(b)
    return value


def library(rng: np.random.Generator, n: int, planted: int) -> list[int]:
    """Random hashes plus copies at distances around the threshold (8 to 12)."""
    hashes = [int(v) for v in rng.integers(0, U64, size=n, dtype=np.uint64)]
    for k in range(planted):
        hashes.append(flip(rng, hashes[k], [0, 1, 4, 8, 9, 10, 10, 11, 12][k % 9]))
    hashes.append(hashes[3])  # an identical copy
    return hashes


def test_parse_phash_reads_stash_hex() -> None:
    assert parse_phash("0") == 0
    assert parse_phash("1f") == 31
    assert parse_phash("ffffffffffffffff") == U64 - 1
    assert parse_phash("00000000000000ab") == 0xAB
    assert parse_phash("ABC") == 0xABC
    for bad in (None, "", "xyz", "1" * 17, "-1"):
        assert parse_phash(bad) is None


@pytest.mark.parametrize(("n", "seed"), [(50, 1), (600, 2), (3000, 3)])
def test_pairs_match_brute_force(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    hashes = library(rng, n, planted=n // 5)
    index = PhashIndex(hashes)
    expected = brute(hashes, 10)
    assert as_set(index.pairs()) == expected
    # Every distance at and around the threshold was planted, so both sides are tested.
    assert {d for *_, d in expected} >= {0, 1, 4, 8, 9, 10}


@pytest.mark.parametrize(
    "parts",
    [
        # One part per allowed bit, exact matches only.
        [Part(6 * k, 6, 0) for k in range(10)] + [Part(60, 4, 0)],
        # The plan for 100,000 hashes.
        [Part(0, 16, 1), Part(16, 16, 2), Part(32, 16, 2), Part(48, 16, 2)],
        # Parts that leave bits uncovered still find everything.
        [Part(0, 20, 3), Part(20, 20, 3), Part(40, 20, 2)],
    ],
)
def test_every_plan_is_exact(parts: list[Part]) -> None:
    rng = np.random.default_rng(7)
    hashes = library(rng, 800, planted=300)
    index = PhashIndex(hashes, parts=parts)
    assert as_set(index.pairs()) == brute(hashes, 10)


def test_plan_that_cannot_guarantee_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot guarantee"):
        PhashIndex([1, 2, 3], parts=[Part(0, 16, 2), Part(16, 16, 2)])


@pytest.mark.parametrize("distance", [0, 3, 10, 12])
def test_other_thresholds(distance: int) -> None:
    rng = np.random.default_rng(distance)
    hashes = library(rng, 500, planted=200)
    assert as_set(PhashIndex(hashes, distance).pairs()) == brute(hashes, distance)


def test_planted_cluster_is_found_whole() -> None:
    rng = np.random.default_rng(11)
    base = int(rng.integers(0, U64, dtype=np.uint64))
    cluster = [flip(rng, base, int(k % 6)) for k in range(30)]  # pairwise <= 10
    noise = [int(v) for v in rng.integers(0, U64, size=2000, dtype=np.uint64)]
    hashes = noise[:1000] + cluster + noise[1000:]
    pairs = as_set(PhashIndex(hashes).pairs())
    inside = {(i, j) for i, j, _ in pairs if 1000 <= i < 1030 and 1000 <= j < 1030}
    assert len(inside) == 30 * 29 // 2
    assert pairs == brute(hashes, 10)


def test_pairs_involving_some_items() -> None:
    rng = np.random.default_rng(5)
    hashes = library(rng, 1500, planted=400)
    index = PhashIndex(hashes)
    chosen = set(range(0, len(hashes), 13)) | {3, len(hashes) - 1}
    expected = {t for t in brute(hashes, 10) if t[0] in chosen or t[1] in chosen}
    assert as_set(index.pairs_involving(chosen)) == expected
    assert len(index.pairs_involving([])) == 0
    with pytest.raises(IndexError):
        index.pairs_involving([len(hashes)])


def test_near_finds_one_value() -> None:
    rng = np.random.default_rng(9)
    hashes = library(rng, 1000, planted=200)
    index = PhashIndex(hashes)
    target = flip(rng, hashes[10], 5)
    found, dist = index.near(target)
    expected = {i: hamming(h, target) for i, h in enumerate(hashes) if hamming(h, target) <= 10}
    assert dict(zip(found.tolist(), dist.tolist(), strict=True)) == expected
    found, _ = index.near(target, 4)
    assert all(hamming(hashes[i], target) <= 4 for i in found.tolist())


def test_empty_and_tiny_indexes() -> None:
    assert len(PhashIndex([]).pairs()) == 0
    assert len(PhashIndex([5]).pairs()) == 0
    assert as_set(PhashIndex([5, 5, 7]).pairs()) == {(0, 1, 0), (0, 2, 1), (1, 2, 1)}


def test_plans_guarantee_the_pigeonhole() -> None:
    for n in (1, 100, 10_000, 100_000, 1_000_000):
        for distance in (0, 4, 10):
            parts = plan_parts(n, distance)
            assert sum(p.radius + 1 for p in parts) == distance + 1
            assert sum(p.bits for p in parts) <= 64
            assert all(p.bits <= 22 for p in parts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, U64 - 1), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 2**32)), max_size=40),
)
def test_clustered_hashes_match_brute_force(
    seeds: list[int], variants: list[tuple[int, int]]
) -> None:
    """Hashes near a few seeds: many near-threshold pairs, many shared buckets."""
    hashes = list(seeds)
    for k, (bits, salt) in enumerate(variants):
        rng = np.random.default_rng(salt)
        hashes.append(flip(rng, seeds[k % len(seeds)], bits))
    assert as_set(PhashIndex(hashes).pairs()) == brute(hashes, 10)


def test_hundred_thousand_hashes_without_all_pairs() -> None:
    """100,000 hashes: a small fraction of the pairs is verified, in seconds."""
    rng = np.random.default_rng(2024)
    n = 100_000
    hashes = rng.integers(0, U64, size=n, dtype=np.uint64)
    planted = [(k, n - 1 - k) for k in range(50)]
    for a, b in planted:
        hashes[b] = flip(rng, int(hashes[a]), 7)
    started = time.perf_counter()
    index = PhashIndex(hashes)
    pairs = index.pairs()
    elapsed = time.perf_counter() - started
    found = set(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True))
    assert set(planted) <= found
    # All pairs would be 5e9; the index verifies under 1 % of that.
    assert index.last_candidates < 0.01 * n * n / 2
    # Loose: about 1.5 s on a 2-core machine; a sign of all-pairs work would be minutes.
    assert elapsed < 60
