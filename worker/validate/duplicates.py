"""Duplicate groups across a whole job, without holding an N×N matrix.

Exact duplicates share a pixel digest (a dict lookup). Near duplicates are pairs of images that
match on their perceptual hashes (:mod:`worker.validate.hashing`) in one of two ways:

- **one view close** (strict): DCT hashes at most ``t`` bits apart
  (``near_duplicate_max_distance``) and both difference hashes at most ``t + 2`` apart, in any
  of the views: as is, one side mirrored, borders trimmed. Found by multi-index hashing: split
  the 64 DCT bits into 4 bands of 16; by the pigeonhole principle two hashes within ``t`` bits
  agree within ``t // 4`` bits on at least one band, so each hash probes, per band, only the
  few 16-bit keys that close to its own, joined against the sorted band values with numpy.
- **three hashes agree** (loose): each of the three hashes within ``2 t`` bits and their sum
  within ``near_duplicate_agree_bits`` of 192, comparing the pictures as they are, their
  centres (a 10 % frame left out) or, when either has borders, the pictures inside them. Crops,
  small rotations and watermarks land here (the centre leaves out the filled corners of a
  rotation, the lost edges of a crop and a corner label); unrelated photos almost never have
  all three close at once. Checked block by block with numpy, the DCT hash of every pair first
  and the two others only where it is close, since at this distance a band index would return
  most pairs anyway.

Groups do not chain: each not yet grouped image, in order, keeps a group and joins to it every
not yet grouped image that matches *it* directly. So A~B and B~C never pull C into A's group
when A and C are far apart. The order is largest first, in size tiers (within 1.25× of the
tier's largest: a bordered copy whose border is not trimmed to the pixel is not larger), and
within a tier the image most others match first: the original rather than one of its edits,
whose group then holds every copy that matches the original. Exact copies (equal digests, a
transitive relation) move as one.

Only images that are valid so far (warnings allowed) take part: an invalid image can never be
the reason a good copy of it is dropped. Rows validated before the extra hashes existed have
only their DCT hash; they match on it alone at ``t``, as they always did.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np

from worker.validate import issues as codes
from worker.validate.hashing import HashSet, NearHashes
from worker.validate.result import ImageCheck
from worker.validate.thresholds import HASH_BITS, Level, Thresholds

_BANDS = 4
_BAND_BITS = HASH_BITS // _BANDS
_TIER = 1.25
"""Sizes within this factor of their tier's largest count as equal when groups pick keepers."""
_CENTRE_AGREE = 0.85
"""Share of ``near_duplicate_agree_bits`` that centre views must stay within: a centre shows
less of a picture, so unrelated ones come closer (two synthetic photos at 47 of 192; real
photos lost one crop of 15 % of 600 copies at this share)."""
_BLOCK = 256
"""Rows compared at once in the loose pass (against 4× as many columns): a few MB of arrays
for any job size."""

# How each view is named among the means of a match.
MIRROR = "mirror"
BORDERS_TRIMMED = "borders_trimmed"
DCT_HASH = "dct_hash"
HASHES_AGREE = "three_hashes_agree"
CENTRE = "centre_crop"
EXACT_PIXELS = "same_pixels"


class Duplicate(NamedTuple):
    """Why an image is a duplicate: the image kept instead, the DCT-hash distance between the
    two views that matched (0 for same pixels) and the means that matched."""

    code: str
    keeper: int
    distance: int
    means: tuple[str, ...]


class _Match(NamedTuple):
    distance: int
    means: tuple[str, ...]


def find_duplicates(
    items: Sequence[tuple[int, ImageCheck]], level: Level, thresholds: Thresholds
) -> dict[int, Duplicate]:
    """Image id → :class:`Duplicate`. Kept images are not in the result. ``exact_duplicate``
    means same pixels as the kept image, ``near_duplicate`` a look-alike of it."""
    if level == "fast":
        return {}
    eligible = [
        (image_id, check) for image_id, check in items
        if not any(codes.is_invalidating(code) for code in check.issues)
    ]
    checks = dict(eligible)
    # Units: images with the same pixels, which always stay together.
    by_digest: dict[str, list[int]] = defaultdict(list)
    unit_of: dict[int, int] = {}
    for image_id, check in eligible:
        if check.pixel_hash is None:
            unit_of[image_id] = image_id
        else:
            by_digest[check.pixel_hash].append(image_id)
    members: dict[int, list[int]] = {}
    for same in by_digest.values():
        head = min(same, key=lambda i: _rank(checks, i))
        for image_id in same:
            unit_of[image_id] = head
        members[head] = same
    for image_id, head in unit_of.items():
        members.setdefault(head, [image_id])
    edges: dict[int, dict[int, _Match]] = defaultdict(dict)
    if level == "slow":
        for a, b, match in near_matches(eligible, thresholds):
            ua, ub = unit_of[a], unit_of[b]
            if ua == ub:
                continue
            for x, y in ((ua, ub), (ub, ua)):
                known = edges[x].get(y)
                if known is None or match.distance < known.distance:
                    edges[x][y] = match
    result: dict[int, Duplicate] = {}
    grouped: set[int] = set()
    # Largest first, in tiers: sizes within ``_TIER`` of a tier's largest count as equal (a
    # bordered copy whose border is not trimmed to the pixel is not larger); within a tier, the
    # one most others match first, which is the original rather than one of its edits, so its
    # group holds every copy that matches it.
    tier = _tiers(checks, members)
    order = sorted(members, key=lambda i: (tier[i], -len(edges.get(i, ())), _rank(checks, i)))
    for head in order:
        if head in grouped:
            continue
        grouped.add(head)
        keeper = head
        for image_id in members[head]:
            if image_id != keeper:
                result[image_id] = Duplicate(codes.EXACT_DUPLICATE, keeper, 0, (EXACT_PIXELS,))
        for other, match in edges.get(head, {}).items():
            if other in grouped:
                continue
            grouped.add(other)
            for image_id in members[other]:
                result[image_id] = Duplicate(codes.NEAR_DUPLICATE, keeper, match.distance,
                                             match.means)
    return result


def _rank(checks: dict[int, ImageCheck], image_id: int) -> tuple[int, int]:
    """Largest picture first (borders and bars do not count), then lowest id."""
    check = checks[image_id]
    share = check.metrics.get("content_share", 1.0)
    share = share if isinstance(share, int | float) else 1.0
    return (-round(check.area * share), image_id)


def _tiers(checks: dict[int, ImageCheck], heads: Iterable[int]) -> dict[int, int]:
    """Unit → its size tier: the largest unit opens tier 0, which takes every unit at least
    1 / ``_TIER`` of its size; the next unit opens tier 1, and so on. Tiers start at real sizes,
    so two copies a few percent apart never fall on either side of a fixed step."""
    out: dict[int, int] = {}
    number, floor = -1, math.inf
    for head in sorted(heads, key=lambda i: _rank(checks, i)):
        area = -_rank(checks, head)[0]
        if area < floor:
            number, floor = number + 1, area / _TIER
        out[head] = number
    return out


def near_matches(
    items: Sequence[tuple[int, ImageCheck]], thresholds: Thresholds
) -> Iterator[tuple[int, int, _Match]]:
    """Every pair of ids (either order, possibly more than once) whose hashes match, with how."""
    t = thresholds.near_duplicate_max_distance
    views: list[tuple[int, HashSet | None, int, tuple[str, ...]]] = []
    plains: list[tuple[int, HashSet]] = []
    centres: list[tuple[int, HashSet]] = []
    contents: list[tuple[int, HashSet, bool]] = []
    framed: list[bool] = []
    for image_id, check in items:
        encoded = check.metrics.get("near_hashes")
        if isinstance(encoded, str) and encoded:
            hashes = NearHashes.decode(encoded)
            views.append((image_id, hashes.plain, hashes.plain.p, ()))
            views.append((image_id, hashes.mirror, hashes.mirror.p, (MIRROR,)))
            if hashes.trimmed is not None and hashes.trimmed_mirror is not None:
                views.append((image_id, hashes.trimmed, hashes.trimmed.p, (BORDERS_TRIMMED,)))
                views.append((image_id, hashes.trimmed_mirror, hashes.trimmed_mirror.p,
                              (BORDERS_TRIMMED, MIRROR)))
            plains.append((image_id, hashes.plain))
            framed.append(hashes.trimmed is not None)
            contents.append((image_id, hashes.content, hashes.trimmed is not None))
            if hashes.centre is not None:
                centres.append((image_id, hashes.centre))
        elif check.phash is not None:  # a row from before the extra hashes
            views.append((image_id, None, check.phash, ()))
    yield from _strict_matches(views, t)
    total = thresholds.near_duplicate_agree_bits
    if total <= 0:
        return
    each = 2 * t
    # Two framed pictures as they are share their frames (a white border, black bars), which
    # brings unrelated ones close; they are compared inside their frames below.
    yield from _agreeing_matches(plains, plains, each, total, (HASHES_AGREE,),
                                 skip=np.array(framed, dtype=bool))
    yield from _agreeing_matches(centres, centres, each, int(total * _CENTRE_AGREE),
                                 (CENTRE, HASHES_AGREE))
    # Borders trimmed: pairs with a trimmed side, whose frames were left out above.
    trimmed = [(image_id, h) for image_id, h, cut in contents if cut]
    yield from _agreeing_matches(trimmed, [(i, h) for i, h, _ in contents], each, total,
                                 (BORDERS_TRIMMED, HASHES_AGREE))


def _strict_matches(
    views: list[tuple[int, HashSet | None, int, tuple[str, ...]]], t: int
) -> Iterator[tuple[int, int, _Match]]:
    by_hash: dict[int, list[int]] = defaultdict(list)
    for index, (_, _, value, _) in enumerate(views):
        by_hash[value].append(index)
    distinct = list(by_hash)
    pairs: list[tuple[int, int]] = []
    for same in by_hash.values():
        pairs.extend(combinations(same, 2))
    if len(distinct) >= 2:
        values = np.array(distinct, dtype=np.uint64)
        for i, j in _candidate_pairs(values, t):
            pairs.extend((x, y) for x in by_hash[distinct[i]] for y in by_hash[distinct[j]])
    for x, y in pairs:
        id_x, set_x, p_x, means_x = views[x]
        id_y, set_y, p_y, means_y = views[y]
        if id_x == id_y:
            continue
        if MIRROR in means_x and MIRROR in means_y:
            continue  # both mirrored: the same comparison as neither, found there
        if set_x is not None and set_y is not None and (
            (set_x.d ^ set_y.d).bit_count() > t + 2 or (set_x.v ^ set_y.v).bit_count() > t + 2
        ):
            continue
        means = tuple(dict.fromkeys((DCT_HASH, *means_x, *means_y)))
        yield id_x, id_y, _Match((p_x ^ p_y).bit_count(), means)


def _agreeing_matches(
    rows: list[tuple[int, HashSet]], cols: list[tuple[int, HashSet]], each: int, total: int,
    means: tuple[str, ...], skip: np.ndarray | None = None,
) -> Iterator[tuple[int, int, _Match]]:
    """Pairs of a row image and a column image (``rows is cols``: each pair once) whose three
    hashes are each within ``each`` bits and together within ``total``; with ``skip`` (one
    flag per image, ``rows is cols`` only), not pairs of two flagged images.

    Every pair is looked at, block by block, but only its DCT hashes at first: one XOR and one
    popcount per pair in numpy. The few pairs within ``each`` there (a percent or two of
    unrelated photos) have their difference hashes compared. At this distance an index would
    return most pairs anyway. 50,000 images (three views) took 12 s of CPU on this project's
    2-core test machine."""
    if not rows or not cols:
        return
    same = rows is cols
    row_ids, col_ids = [i for i, _ in rows], [i for i, _ in cols]
    row_h = np.array([(h.p, h.d, h.v) for _, h in rows], dtype=np.uint64)
    col_h = row_h if same else np.array([(h.p, h.d, h.v) for _, h in cols], dtype=np.uint64)
    row_p, col_p = np.ascontiguousarray(row_h[:, 0]), np.ascontiguousarray(col_h[:, 0])
    width = 8 * _BLOCK
    for i0 in range(0, len(rows), _BLOCK):
        block_p = row_p[i0:i0 + _BLOCK, None]
        for j0 in range(i0 if same else 0, len(cols), width):
            cols_p = col_p[None, j0:j0 + width]
            dct = np.bitwise_count(block_p ^ cols_p)
            # flatnonzero: np.nonzero on a 2-D array took longer than the XOR and the count
            r, c = np.divmod(np.flatnonzero(dct <= each), cols_p.shape[1])
            if same:
                keep = j0 + c > i0 + r  # each pair once, never an image with itself
                if skip is not None:
                    keep &= ~(skip[i0 + r] & skip[j0 + c])
                r, c = r[keep], c[keep]
            if not len(r):
                continue
            rest = np.bitwise_count(row_h[i0 + r, 1:] ^ col_h[j0 + c, 1:])
            bits = dct[r, c]
            ok = (rest.max(axis=1) <= each) & (bits + rest.sum(axis=1, dtype=np.int32) <= total)
            for x, y, d in zip((i0 + r[ok]).tolist(), (j0 + c[ok]).tolist(), bits[ok].tolist(),
                               strict=True):
                if row_ids[x] != col_ids[y]:
                    yield row_ids[x], col_ids[y], _Match(d, means)


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
        # Where each 16-bit key's run starts in ``order`` and how long it is: two lookups per
        # probe instead of two binary searches.
        run = np.bincount(keys, minlength=1 << _BAND_BITS)
        first = np.cumsum(run) - run
        for mask in masks:
            probes = keys ^ mask
            lo, counts = first[probes], run[probes]
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
