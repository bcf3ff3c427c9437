"""find_duplicates: exact copies at medium, look-alikes at slow, the right image kept, and the
multi-index search agreeing with a brute-force comparison of every pair."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.validate import corpus as c
from worker.validate import duplicates
from worker.validate.checks import check_image
from worker.validate.hashing import HashSet, NearHashes, distance, near_hashes
from worker.validate.result import ImageCheck
from worker.validate.thresholds import Thresholds

SIZE = (320, 240)
DEFAULT = Thresholds()


def find_duplicates(items, level, thresholds) -> dict[int, tuple[str, int]]:
    """The verdicts (code, kept image) of the real finder; why each matched is tested apart."""
    found = duplicates.find_duplicates(items, level, thresholds)
    return {image_id: (dup.code, dup.keeper) for image_id, dup in found.items()}


def _check_all(paths: list[Path], level: str) -> list[tuple[int, ImageCheck]]:
    return [(i, check_image(path, level)) for i, path in enumerate(paths)]  # type: ignore[arg-type]


def test_same_pixels_in_different_bytes_are_exact_duplicates(tmp_path: Path) -> None:
    image = c.photo(40, SIZE)
    paths = [
        c.save(tmp_path, "a.png", c.encode(image, "PNG")),
        c.save(tmp_path, "b.png", c.encode(image, "PNG", compress_level=1, optimize=False)),
        c.save(tmp_path, "c.webp", c.encode(image, "WEBP", lossless=True)),
        c.save(tmp_path, "d.bmp", c.encode(image, "BMP")),
        c.save(tmp_path, "e.png", c.encode(image.convert("RGBA"), "PNG")),  # opaque alpha
        c.save(tmp_path, "other.png", c.encode(c.photo(41, SIZE), "PNG")),
    ]
    assert len({path.read_bytes() for path in paths}) == len(paths)
    for level in ("medium", "slow"):
        found = find_duplicates(_check_all(paths, level), level, DEFAULT)
        assert found == {i: ("exact_duplicate", 0) for i in (1, 2, 3, 4)}, level


def test_jpeg_with_metadata_stripped_is_an_exact_duplicate(tmp_path: Path) -> None:
    image = c.photo(42, SIZE)
    exif = c.exif_with_comment("copied from somewhere")
    paths = [
        c.save(tmp_path, "a.jpg", c.encode(image, "JPEG", quality=85)),
        c.save(tmp_path, "b.jpg", c.encode(image, "JPEG", quality=85, exif=exif)),
    ]
    assert find_duplicates(_check_all(paths, "medium"), "medium", DEFAULT) == {
        1: ("exact_duplicate", 0)
    }


def test_lossless_copy_of_a_jpeg_is_only_a_near_duplicate(tmp_path: Path) -> None:
    """JPEGs are digested at their DCT-scaled decode (the cheap one medium does), other
    formats at a box-reduced full decode, so a PNG made from a decoded JPEG is not recognised
    as the same pixels; slow still groups it, with distance 0, as a near duplicate."""
    jpeg = c.encode(c.photo(44, SIZE), "JPEG", quality=85)
    paths = [c.save(tmp_path, "a.jpg", jpeg)]
    with Image.open(paths[0]) as decoded:
        paths.append(c.save(tmp_path, "b.png", c.encode(decoded.convert("RGB"), "PNG")))
    assert find_duplicates(_check_all(paths, "medium"), "medium", DEFAULT) == {}
    slow = _check_all(paths, "slow")
    assert distance(slow[0][1].phash, slow[1][1].phash) == 0
    assert find_duplicates(slow, "slow", DEFAULT) == {1: ("near_duplicate", 0)}


def test_fast_level_finds_no_duplicates(tmp_path: Path) -> None:
    image = c.encode(c.photo(43, SIZE), "PNG")
    paths = [c.save(tmp_path, "a.png", image), c.save(tmp_path, "b.png", image)]
    assert find_duplicates(_check_all(paths, "fast"), "fast", DEFAULT) == {}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Image.Image, Path]]:
    folder = tmp_path_factory.mktemp("originals")
    out = []
    for seed in range(50, 56):
        image = c.photo(seed, (640, 480))
        out.append((image, c.save(folder, f"{seed}.png", c.encode(image, "PNG"))))
    return out


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda im: c.encode(c.resized(im, 0.5), "JPEG", quality=90), id="half-size"),
        pytest.param(lambda im: c.encode(c.resized(im, 1.5), "JPEG", quality=95), id="enlarged"),
        pytest.param(lambda im: c.encode(im, "JPEG", quality=25), id="jpeg-q25"),
        pytest.param(lambda im: c.encode(c.cropped(im, 0.025), "JPEG", quality=90), id="crop-5%"),
        pytest.param(lambda im: c.encode(im, "WEBP", quality=60), id="webp"),
    ],
)
def test_transformed_copies_are_near_duplicates_at_slow_only(
    tmp_path: Path, originals: list[tuple[Image.Image, Path]], variant
) -> None:
    for seed, (image, original) in enumerate(originals):
        paths = [original, c.save(tmp_path, f"{seed}-copy", variant(image))]
        slow = _check_all(paths, "slow")
        original_kept = slow[0][1].area >= slow[1][1].area
        expected = {1: ("near_duplicate", 0)} if original_kept else {0: ("near_duplicate", 1)}
        assert find_duplicates(slow, "slow", DEFAULT) == expected, seed
        assert find_duplicates(_check_all(paths, "medium"), "medium", DEFAULT) == {}


def test_many_unrelated_images_are_not_grouped(tmp_path: Path) -> None:
    paths = [
        c.save(tmp_path, f"{seed}.jpg", c.encode(c.photo(seed, (160, 120)), "JPEG", quality=85))
        for seed in range(1000, 1300)
    ]
    checks = _check_all(paths, "slow")
    assert all(check.phash is not None for _, check in checks)
    assert find_duplicates(checks, "slow", DEFAULT) == {}


def test_largest_copy_is_kept_and_ties_go_to_the_lowest_id(tmp_path: Path) -> None:
    image = c.photo(60, (640, 480))
    small = c.encode(c.resized(image, 0.5), "JPEG", quality=90)
    paths = [
        c.save(tmp_path, "small-a.jpg", small),
        c.save(tmp_path, "large.jpg", c.encode(image, "JPEG", quality=90)),
        c.save(tmp_path, "small-b.jpg", c.encode(c.resized(image, 0.5), "JPEG", quality=90,
                                                  exif=c.exif_with_comment("same pixels"))),
    ]
    found = find_duplicates(_check_all(paths, "slow"), "slow", DEFAULT)
    assert found == {0: ("near_duplicate", 1), 2: ("near_duplicate", 1)}
    # without the large one, the two identical small ones tie: lowest id kept, exact copy
    found = find_duplicates(_check_all([paths[0], paths[2]], "slow"), "slow", DEFAULT)
    assert found == {1: ("exact_duplicate", 0)}


def test_invalid_images_never_take_part(tmp_path: Path) -> None:
    image = c.photo(61, (640, 480))
    large = c.save(tmp_path, "large.jpg", c.encode(image, "JPEG", quality=90))
    small = c.save(tmp_path, "small.jpg", c.encode(c.resized(image, 0.5), "JPEG", quality=90))
    checks = [(1, check_image(large, "slow")), (2, check_image(small, "slow"))]
    checks[0][1].issues.append("file_too_large")  # as if the limit were lower
    assert find_duplicates(checks, "slow", DEFAULT) == {}
    checks[0][1].issues[:] = ["too_dark", "blurry"]  # warnings keep it in
    assert find_duplicates(checks, "slow", DEFAULT) == {2: ("near_duplicate", 1)}


# --- property: multi-index search + union-find equals brute force over all pairs ---------------

def _random_checks(rng: random.Random, count: int) -> list[tuple[int, ImageCheck]]:
    centres = [rng.getrandbits(64) for _ in range(max(1, count // 6))]
    digests = [f"d{i}" for i in range(max(1, count // 10))]
    items = []
    for image_id in rng.sample(range(10 * count), count):
        value = rng.choice(centres)
        for bit in rng.sample(range(64), rng.choice([0, 1, 2, 4, 6, 8, 10, 12, 16, 32])):
            value ^= 1 << bit
        check = ImageCheck(
            issues=rng.choice([[], [], [], ["blurry"], ["too_small"], ["exact_duplicate"]]),
            pixel_hash=rng.choice([None, *digests]) if rng.random() < 0.3 else None,
            phash=value if rng.random() < 0.95 else None,
            area=rng.choice([100, 200, 200, 300]),
        )
        items.append((image_id, check))
    return items


def _brute_force_groups(items, max_distance: int) -> list[set[int]]:
    """The grouping rule written plainly over every pair: exact copies move together; units
    are taken largest first (in tiers: within 1.25× of a tier's largest), then most matched,
    then largest, then lowest id, and
    each keeps every free unit that matches it directly (no chaining)."""
    eligible = {i: ch for i, ch in items if not set(ch.issues) & {"too_small"}}
    units: dict[str, list[int]] = {}
    for i, ch in eligible.items():
        units.setdefault(ch.pixel_hash or f"own{i}", []).append(i)
    heads = {min(m, key=lambda i: (-eligible[i].area, i)): m for m in units.values()}

    def close(a: int, b: int) -> bool:
        return any(x.phash is not None and y.phash is not None
                   and distance(x.phash, y.phash) <= max_distance
                   for x in (eligible[i] for i in heads[a])
                   for y in (eligible[j] for j in heads[b]))

    matched = {h: {o for o in heads if o != h and close(h, o)} for h in heads}

    # Tiers: the largest unit opens one, which takes every unit at least 1/1.25 its size.
    tier, floor = {}, math.inf
    for head in sorted(heads, key=lambda h: (-eligible[h].area, h)):
        if eligible[head].area < floor:
            floor = eligible[head].area / 1.25
        tier[head] = floor

    groups, taken = [], set()
    for head in sorted(heads, key=lambda h: (-tier[h], -len(matched[h]), -eligible[h].area, h)):
        if head in taken:
            continue
        taken.add(head)
        group = set(heads[head])
        for other in matched[head] - taken:
            taken.add(other)
            group |= set(heads[other])
        if len(group) > 1:
            groups.append(group)
    return groups


@pytest.mark.parametrize("max_distance", [0, 3, 7, 10, 12, 20])
def test_groups_match_brute_force_and_keepers_are_sound(max_distance: int) -> None:
    """Rows with only a DCT hash (validated before the extra hashes) group by it alone."""
    thresholds = Thresholds(near_duplicate_max_distance=max_distance)
    for seed in range(8):
        rng = random.Random(seed * 100 + max_distance)
        items = _random_checks(rng, rng.randint(2, 160))
        checks = dict(items)
        found = find_duplicates(items, "slow", thresholds)
        groups: dict[int, set[int]] = {}
        for image_id, (code, keeper) in found.items():
            assert keeper not in found  # a keeper is never itself a duplicate
            assert keeper != image_id
            groups.setdefault(keeper, {keeper}).add(image_id)
            digest = checks[keeper].pixel_hash
            same = digest is not None and checks[image_id].pixel_hash == digest
            assert code == ("exact_duplicate" if same else "near_duplicate")
        expected = _brute_force_groups(items, max_distance)
        assert sorted(map(sorted, groups.values())) == sorted(map(sorted, expected))


def test_groups_do_not_chain() -> None:
    """A~B and B~C within the threshold, A and C far apart: C is not in A's group."""
    a = 0
    b = a ^ 0b11111111  # 8 bits from A
    c = b ^ (0b11111111 << 8)  # 8 from B, 16 from A
    items = [(1, ImageCheck(phash=a, area=300)), (2, ImageCheck(phash=b, area=200)),
             (3, ImageCheck(phash=c, area=100))]
    found = duplicates.find_duplicates(items, "slow", DEFAULT)
    assert {i: (d.code, d.keeper, d.distance) for i, d in found.items()} == {
        2: ("near_duplicate", 1, 8)}
    assert found[2].means == (duplicates.DCT_HASH,)


def test_among_near_equal_sizes_the_most_matched_is_kept() -> None:
    """A bordered copy a tenth larger (its border not trimmed to the pixel) matches only the
    original; the original matches every copy. The original keeps the group, so no copy is
    left out for matching only it; a step of fixed size classes used to keep the bordered one."""
    original = 0
    copies = [original ^ (0xFF << shift) for shift in (8, 16, 24)]  # 8 bits from it, 16 apart
    bordered = original ^ 0xFF
    items = [(1, ImageCheck(phash=original, area=1000)), (2, ImageCheck(phash=bordered, area=1100))]
    items += [(3 + i, ImageCheck(phash=value, area=950)) for i, value in enumerate(copies)]
    assert find_duplicates(items, "slow", DEFAULT) == {
        i: ("near_duplicate", 1) for i in (2, 3, 4, 5)}
    # far apart in size, the larger one is kept even if it matches fewer
    items[1] = (2, ImageCheck(phash=bordered, area=2000))
    found = find_duplicates(items, "slow", DEFAULT)
    assert found[1] == ("near_duplicate", 2) and 2 not in found


def test_near_hashes_round_trip_and_older_rows_decode() -> None:
    image = c.photo(62, (320, 240)).convert("L")
    bordered = ImageOps.expand(image, 20, fill=255)
    for picture, trimmed in ((image, False), (bordered, True)):
        hashes = near_hashes(picture)
        assert (hashes.trimmed is not None) == trimmed and hashes.centre is not None
        text = hashes.encode()
        assert NearHashes.decode(text) == replace(hashes, content_share=1.0)
        # rows written before the centre view: plain, mirror (and the trimmed two)
        parts = text.split(".")
        old = NearHashes.decode(".".join(parts[:2] + parts[3:]))
        assert old.centre is None and old.plain == hashes.plain
        assert old.trimmed == hashes.trimmed
    assert 0.7 < near_hashes(bordered).content_share < 0.8  # 320×240 inside 360×280


def test_two_framed_pictures_are_not_matched_by_their_frames() -> None:
    """Two unrelated photos in the same white border look alike as they are; only what is
    inside the borders counts for them. A framed and an unframed picture still compare as
    they are (the frame may be the photo's own flat sky)."""
    rng = random.Random(7)

    def hash_set() -> HashSet:
        return HashSet(rng.getrandbits(64), rng.getrandbits(64), rng.getrandbits(64))

    def near(plain: HashSet, trimmed: HashSet | None) -> ImageCheck:
        far = hash_set()
        hashes = NearHashes(plain, hash_set(), trimmed, hash_set() if trimmed else None, far)
        return ImageCheck(metrics={"near_hashes": hashes.encode()}, area=1000, phash=plain.p)

    frame = hash_set()
    close = HashSet(frame.p ^ 0xFFFF, frame.d ^ 0xFF, frame.v ^ 0xFF)  # 16 + 8 + 8 bits
    framed = [(1, near(frame, hash_set())), (2, near(close, hash_set()))]
    assert duplicates.find_duplicates(framed, "slow", DEFAULT) == {}
    unframed = [(1, near(frame, hash_set())), (2, near(close, None))]
    found = duplicates.find_duplicates(unframed, "slow", DEFAULT)
    assert set(found) == {2} and found[2].means == (duplicates.HASHES_AGREE,)
