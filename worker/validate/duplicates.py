"""Duplicate groups across a whole job, without comparing every pair.

Exact duplicates share a pixel digest (a dict lookup). Near duplicates are pairs of perceptual
hashes at most ``t`` bits apart, found by multi-index hashing: split the 64 bits into 4 bands
of 16; by the pigeonhole principle two hashes within ``t`` bits agree within ``t // 4`` bits on
at least one band. So each hash only probes, per band, the few thousand 16-bit keys that close
to its own, joined against the sorted band values with numpy, and the few candidates found are
checked on all 64 bits. Pairs then merge into groups with union-find; each group keeps its
largest image (ties: lowest id).

Only images that are valid so far (warnings allowed) take part: an invalid image can never be
the reason a good copy of it is dropped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from itertools import combinations

import numpy as np

from worker.validate import issues as codes
from worker.validate.result import ImageCheck
from worker.validate.thresholds import HASH_BITS, Level, Thresholds

_BANDS = 4
_BAND_BITS = HASH_BITS // _BANDS


def find_duplicates(
    items: Sequence[tuple[int, ImageCheck]], level: Level, thresholds: Thresholds
) -> dict[int, tuple[str, int]]:
    """Image id → (``exact_duplicate`` | ``near_duplicate``, id of the image kept instead).
    Kept images are not in the result. ``exact`` means same pixels as the kept image; a
    member joined to its group only through look-alikes is ``near``."""
    if level == "fast":
        return {}
    eligible = [
        (image_id, check) for image_id, check in items
        if not any(codes.is_invalidating(code) for code in check.issues)
    ]
    groups = _UnionFind([image_id for image_id, _ in eligible])
    by_digest: dict[str, list[int]] = defaultdict(list)
    for image_id, check in eligible:
        if check.pixel_hash is not None:
            by_digest[check.pixel_hash].append(image_id)
    for members in by_digest.values():
        groups.join_all(members)
    if level == "slow":
        hashed = [(image_id, check.phash) for image_id, check in eligible if check.phash]
        for a, b in near_pairs(hashed, thresholds.near_duplicate_max_distance):
            groups.union(a, b)
    checks = dict(eligible)
    result: dict[int, tuple[str, int]] = {}
    for members in groups.groups():
        keeper = min(members, key=lambda image_id: (-checks[image_id].area, image_id))
        kept_digest = checks[keeper].pixel_hash
        for image_id in members:
            if image_id != keeper:
                same = kept_digest is not None and checks[image_id].pixel_hash == kept_digest
                result[image_id] = (codes.EXACT_DUPLICATE if same else codes.NEAR_DUPLICATE, keeper)
    return result


def near_pairs(hashed: Sequence[tuple[int, int]], max_distance: int) -> Iterator[tuple[int, int]]:
    """Every pair of ids whose hashes differ in at most ``max_distance`` bits, each pair once
    at least (duplicates are harmless to union-find)."""
    ids_by_hash: dict[int, list[int]] = defaultdict(list)
    for image_id, value in hashed:
        ids_by_hash[value].append(image_id)
    for same in ids_by_hash.values():  # identical hashes: no need to search for them
        yield from ((same[0], other) for other in same[1:])
    distinct = list(ids_by_hash)
    if len(distinct) < 2:
        return
    values = np.array(distinct, dtype=np.uint64)
    for i, j in _candidate_pairs(values, max_distance):
        yield ids_by_hash[distinct[i]][0], ids_by_hash[distinct[j]][0]


def cross_group_pairs(hashed: Sequence[tuple[str, int]], max_distance: int) -> int:
    """How many pairs of items, in different groups, have hashes at most ``max_distance``
    bits apart; items are (group, hash). Counted exactly, without an N×N comparison: items
    with equal hashes are counted by group, distinct hashes are paired by multi-index hashing."""
    by_hash: dict[int, Counter[str]] = defaultdict(Counter)
    for group, value in hashed:
        by_hash[value][group] += 1
    total = 0
    for groups in by_hash.values():
        n = sum(groups.values())
        total += (n * n - sum(c * c for c in groups.values())) // 2
    distinct = list(by_hash)
    if len(distinct) < 2:
        return total
    values = np.array(distinct, dtype=np.uint64)
    for i, j in _candidate_pairs(values, max_distance):
        a, b = by_hash[distinct[i]], by_hash[distinct[j]]
        total += sum(a.values()) * sum(b.values()) - sum(a[g] * b[g] for g in a)
    return total


def _candidate_pairs(values: np.ndarray, max_distance: int) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) of ``values`` within ``max_distance`` bits, by multi-index hashing."""
    n = len(values)
    masks = _flip_masks(_BAND_BITS, max_distance // _BANDS)
    found: set[tuple[int, int]] = set()
    for band in range(_BANDS):
        keys = ((values >> np.uint64(band * _BAND_BITS)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        for mask in masks:
            probes = keys ^ mask
            lo = np.searchsorted(sorted_keys, probes, "left")
            hi = np.searchsorted(sorted_keys, probes, "right")
            counts = hi - lo
            total = int(counts.sum())
            if total == 0:
                continue
            left = np.repeat(np.arange(n), counts)
            starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            right = order[starts + np.arange(total)]
            keep = left < right
            left, right = left[keep], right[keep]
            close = np.bitwise_count(values[left] ^ values[right]) <= max_distance
            found.update(zip(left[close].tolist(), right[close].tolist(), strict=True))
    yield from found


def _flip_masks(bits: int, radius: int) -> list[int]:
    """Every ``bits``-bit mask with at most ``radius`` bits set (including 0)."""
    masks = []
    for flips in range(radius + 1):
        for positions in combinations(range(bits), flips):
            masks.append(sum(1 << p for p in positions))
    return masks


class _UnionFind:
    def __init__(self, ids: Sequence[int]) -> None:
        self._parent = {image_id: image_id for image_id in ids}

    def find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving keeps the trees flat
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)

    def join_all(self, members: Sequence[int]) -> None:
        for other in members[1:]:
            self.union(members[0], other)

    def groups(self) -> list[list[int]]:
        """Groups of two or more ids."""
        by_root: dict[int, list[int]] = defaultdict(list)
        for image_id in self._parent:
            by_root[self.find(image_id)].append(image_id)
        return [members for members in by_root.values() if len(members) > 1]
