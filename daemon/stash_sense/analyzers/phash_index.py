"""Find pairs of 64-bit perceptual hashes within a Hamming distance without comparing all pairs.

Design: multi-index hashing with a generalised pigeonhole. The 64 bits are cut into
`m` parts, part `i` searched with radius `r_i`, where sum(r_i + 1) = D + 1: two hashes
within distance D differ by at most `r_i` bits in at least one part (otherwise they
would differ by at least D + 1). Each part has a direct-address table (items sorted by
the part's value, bucket starts by value), so probing one value is two array reads.
A query probes every value within `r_i` of its own part value, collects the items in
those buckets, and verifies each candidate with a full 64-bit popcount, so the result
is exact. The split is planned per index size from the expected cost on uniform
hashes: probes per item (the ball volume) plus candidates per item (volume · n / 2^b).
Everything runs in numpy, in chunks that bound memory.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

DEFAULT_MAX_DISTANCE = 10
HASH_BITS = 64
# Tables hold 2^bits + 1 int32 starts: 16 MiB at 22 bits is the most one part may take.
_MAX_TABLE_BITS = 22
# Probes and candidates per chunk: small enough that the temporaries stay in cache.
_CHUNK_PROBES = 1 << 16
_CHUNK_CANDIDATES = 1 << 22
# Measured: one probe costs about three verified candidates.
_PROBE_COST = 3.0

_HEX = re.compile(r"[0-9a-f]{1,16}")

U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]
# Table internals are int32 (half the memory traffic): an index holds < 2^31 hashes.
I32Array = npt.NDArray[np.int32]
U8Array = npt.NDArray[np.uint8]


def parse_phash(value: str | None) -> int | None:
    """Return a phash string's value (Stash prints lowercase hex, unpadded), or None if invalid."""
    if not value:
        return None
    text = value.strip().lower().removeprefix("0x")
    # int() would also take signs, underscores and spaces.
    if not _HEX.fullmatch(text):
        return None
    return int(text, 16)


def to_array(values: Iterable[int]) -> U64Array:
    """Return 64-bit hash values as a uint64 array."""
    return np.fromiter(values, dtype=np.uint64)


def popcount(values: U64Array) -> U8Array:
    """Return the number of set bits of each uint64."""
    return np.bitwise_count(values)


def hamming(a: int, b: int) -> int:
    """Return the Hamming distance of two 64-bit values."""
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class Part:
    """One slice of the hash: `bits` bits from `shift`, searched within `radius`."""

    shift: int
    bits: int
    radius: int

    @property
    def volume(self) -> int:
        """Return how many values lie within `radius` of one value."""
        return sum(math.comb(self.bits, k) for k in range(self.radius + 1))


def _compositions(total: int, parts: int) -> Iterable[tuple[int, ...]]:
    """Yield every way to write `total` as an ordered sum of `parts` positive integers."""
    for cuts in itertools.combinations(range(1, total), parts - 1):
        bounds = (0, *cuts, total)
        yield tuple(bounds[k + 1] - bounds[k] for k in range(parts))


def plan_parts(n: int, max_distance: int) -> tuple[Part, ...]:
    """Choose the parts that minimise the expected work for `n` uniform hashes."""
    if not 0 <= max_distance < HASH_BITS:
        raise ValueError(f"max_distance must be in [0, {HASH_BITS - 1}]")
    best: tuple[float, tuple[Part, ...]] | None = None
    for m in range(1, max_distance + 2):
        # Parts need not cover every bit: the pigeonhole holds over any disjoint parts,
        # and verification checks the whole hash anyway.
        width, extra = divmod(min(HASH_BITS, m * _MAX_TABLE_BITS), m)
        bits = [width + (1 if k < extra else 0) for k in range(m)]
        shifts = [sum(bits[:k]) for k in range(m)]
        # Any order of radii is a distinct plan because the wider parts come first.
        for comp in _compositions(max_distance + 1, m):
            parts = tuple(
                Part(shift, b, c - 1) for shift, b, c in zip(shifts, bits, comp, strict=True)
            )
            cost = sum(p.volume * (_PROBE_COST + n / (1 << p.bits)) for p in parts)
            if best is None or cost < best[0]:
                best = (cost, parts)
    assert best is not None  # m = 1 always yields a plan
    return best[1]


class HashPairs(NamedTuple):
    """Pairs of item positions (first < second) and their distances, sorted."""

    first: I64Array
    second: I64Array
    distance: U8Array

    def __len__(self) -> int:
        """Return the number of pairs."""
        return int(self.first.shape[0])


def _masks(part: Part) -> I32Array:
    """Return every `part.bits`-bit value with at most `part.radius` set bits."""
    out = [0]
    for k in range(1, part.radius + 1):
        for combo in itertools.combinations(range(part.bits), k):
            out.append(sum(1 << b for b in combo))
    return np.asarray(out, dtype=np.int32)


@dataclass(frozen=True)
class _Table:
    """Items sorted by one part's value, and where each value's bucket starts."""

    part: Part
    order: I32Array
    # Each item's place in `order`, and the hashes in that order (read in runs, cache-friendly).
    rank: I32Array
    sorted_hashes: U64Array
    starts: I32Array
    masks: I32Array


class PhashIndex:
    """An exact index of 64-bit hashes for Hamming-distance pair search.

    Items are addressed by position (0..n-1); callers map positions to their own ids.
    """

    def __init__(
        self,
        hashes: Sequence[int] | U64Array,
        max_distance: int = DEFAULT_MAX_DISTANCE,
        *,
        parts: Sequence[Part] | None = None,
    ) -> None:
        self.hashes: U64Array = np.ascontiguousarray(np.asarray(hashes, dtype=np.uint64))
        if self.hashes.ndim != 1:
            raise ValueError("hashes must be one-dimensional")
        if len(self) >= 2**31 - 1:
            raise ValueError("an index holds fewer than 2^31 hashes")
        self.max_distance = max_distance
        self.parts = tuple(parts) if parts is not None else plan_parts(len(self), max_distance)
        if sum(p.radius + 1 for p in self.parts) < max_distance + 1:
            raise ValueError("the parts' radii cannot guarantee every pair is found")
        self._tables = [self._build(p) for p in self.parts]
        # Verified candidates of the last search, for tests and benchmarks.
        self.last_candidates = 0

    def __len__(self) -> int:
        """Return the number of indexed hashes."""
        return int(self.hashes.shape[0])

    def _build(self, part: Part) -> _Table:
        """Build the direct-address table of one part."""
        mask = np.uint64((1 << part.bits) - 1)
        keys = ((self.hashes >> np.uint64(part.shift)) & mask).astype(np.int32)
        order = np.argsort(keys, kind="stable").astype(np.int32)
        counts = np.bincount(keys, minlength=1 << part.bits)
        starts = np.zeros((1 << part.bits) + 1, dtype=np.int32)
        np.cumsum(counts, out=starts[1:])
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0], dtype=np.int32)
        return _Table(part, order, rank, self.hashes[order], starts, _masks(part))

    def pairs(self) -> HashPairs:
        """Return every pair of items within the index's distance."""
        positions = np.arange(len(self), dtype=np.int64)
        return self._collect(self.hashes, positions, upper_only=True)

    def pairs_involving(self, positions: Iterable[int]) -> HashPairs:
        """Return every pair within the distance that has at least one item in `positions`."""
        chosen = np.unique(np.fromiter(positions, dtype=np.int64))
        if chosen.size and (chosen[0] < 0 or chosen[-1] >= len(self)):
            raise IndexError("position out of range")
        return self._collect(self.hashes[chosen], chosen, upper_only=False)

    def near(self, value: int, max_distance: int | None = None) -> tuple[I64Array, U8Array]:
        """Return the positions of items within `max_distance` of `value`, and their distances."""
        limit = self.max_distance if max_distance is None else max_distance
        if limit > self.max_distance:
            raise ValueError("cannot search beyond the index's max_distance")
        query = np.asarray([value], dtype=np.uint64)
        _, found, dist = self._search(query, None, upper_only=False)
        keep = dist <= limit
        found, dist = found[keep], dist[keep]
        found, first = np.unique(found, return_index=True)
        return found, dist[first]

    def _collect(self, query: U64Array, positions: I64Array, *, upper_only: bool) -> HashPairs:
        """Search, orient each pair (first < second), and drop duplicates."""
        qpos, found, dist = self._search(query, positions, upper_only=upper_only)
        first = np.minimum(qpos, found)
        second = np.maximum(qpos, found)
        n = max(len(self), 1)
        code = first * n + second
        code, keep = np.unique(code, return_index=True)
        return HashPairs(code // n, code % n, dist[keep])

    def _search(
        self, query: U64Array, positions: I64Array | None, *, upper_only: bool
    ) -> tuple[I64Array, I64Array, U8Array]:
        """Return (query position, item, distance) for candidates that verify.

        `positions` are the queries' own item positions (None for outside values): their
        own entry is skipped. With `upper_only` each unordered pair is produced once: a
        query probes only values above its own key, and in its own bucket only the items
        after itself (buckets list items by position).
        """
        qpos_all = (
            positions if positions is not None else np.full(query.shape[0], -1, dtype=np.int64)
        )
        out_q: list[I64Array] = []
        out_j: list[I64Array] = []
        out_d: list[U8Array] = []
        self.last_candidates = 0
        for table in self._tables:
            part = table.part
            mask = np.uint64((1 << part.bits) - 1)
            qkeys = ((query >> np.uint64(part.shift)) & mask).astype(np.int32)
            volume = table.masks.shape[0]
            load = volume * max(1.0, len(self) / (1 << part.bits))
            chunk = max(1, min(_CHUNK_PROBES // volume, int(_CHUNK_CANDIDATES / load)))
            for start in range(0, qkeys.shape[0], chunk):
                found = self._probe(
                    table,
                    query,
                    qkeys,
                    qpos_all,
                    slice(start, start + chunk),
                    upper_only=upper_only,
                )
                if found is not None:
                    out_q.append(found[0])
                    out_j.append(found[1])
                    out_d.append(found[2])
        if not out_q:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0, dtype=np.uint8)
        return np.concatenate(out_q), np.concatenate(out_j), np.concatenate(out_d)

    def _probe(
        self,
        table: _Table,
        query: U64Array,
        qkeys: I32Array,
        qpos_all: I64Array,
        rows: slice,
        *,
        upper_only: bool,
    ) -> tuple[I64Array, I64Array, U8Array] | None:
        """Probe one chunk of queries in one part; return the verified pairs, if any."""
        own = qkeys[rows]
        probes = own[:, None] ^ table.masks[None, :]
        lo = table.starts[probes]
        counts = table.starts[probes + 1] - lo
        qpos = qpos_all[rows]
        if upper_only:
            # Column 0 is the query's own bucket (mask 0): only the items listed after
            # itself, since buckets list items by position.
            lo[:, 0] = table.rank[qpos] + 1
            counts[:, 0] = table.starts[own + 1] - lo[:, 0]
            # A pair whose keys differ is found from the side with the smaller key only.
            counts[probes < own[:, None]] = 0
        flat_counts = counts.ravel()
        ends = np.cumsum(flat_counts)
        total = int(ends[-1]) if ends.size else 0
        if total == 0:
            return None
        self.last_candidates += total
        # Expand every probed bucket [lo, lo + count) into one row per listed item; the
        # probes of one query are adjacent, so its hash repeats once per query.
        pos = np.repeat(lo.ravel() - (ends - flat_counts).astype(np.int32), flat_counts)
        pos += np.arange(total, dtype=pos.dtype)
        per_query = counts.sum(axis=1)
        dist = popcount(np.repeat(query[rows], per_query) ^ table.sorted_hashes[pos])
        ok = np.flatnonzero(dist <= self.max_distance)
        if ok.size == 0:
            return None
        owner = np.searchsorted(np.cumsum(per_query), ok, side="right")
        item = table.order[pos[ok]].astype(np.int64)
        qp = qpos[owner]
        dist_ok = dist[ok]
        if not upper_only:
            keep = item != qp
            item, qp, dist_ok = item[keep], qp[keep], dist_ok[keep]
        return qp, item, dist_ok
