"""Splits: strict parsing, and an assignment that depends on each image's hash alone."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from worker.export.split import Split, assign, hash_point, parse_split

TVT = (Split("train", 0.8), Split("val", 0.1), Split("test", 0.1))


def sha(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def test_parse():
    assert parse_split("train:0.8,val:0.1,test:0.1") == TVT
    assert parse_split(" a : 0.5 , B_2-x:0.5") == (Split("a", 0.5), Split("B_2-x", 0.5))
    assert parse_split("all:1") == (Split("all", 1.0),)
    assert parse_split("a:0.3333333,b:0.3333333,c:0.3333334")  # sums to 1 within 1e-6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train", "split must be a comma list of name:fraction"),
        ("train:0.8,", "split must be a comma list of name:fraction"),
        (":1", "split must be"),
        ("tr ain:1", "'tr ain' must be 1-32 letters, digits, '_' or '-'"),
        ("../x:1", "must be 1-32 letters"),
        ("x" * 33 + ":1", "must be 1-32 letters"),
        ("con:0.5,b:0.5", "'con' is reserved on Windows"),
        ("a:0.5,A:0.5", "split name 'A' is given twice"),
        ("a:half,b:0.5", "split 'a' has fraction 'half', not a number"),
        ("a:0,b:1", "split 'a' needs a fraction above 0"),
        ("a:-0.5,b:1.5", "needs a fraction above 0"),
        ("a:nan,b:1", "needs a fraction above 0"),
        ("a:inf", "needs a fraction above 0"),
        ("a:0.5,b:0.4", "split fractions must add up to 1, they add up to 0.9"),
        ("a:0.5,b:0.500002", "add up to 1"),
    ],
)
def test_parse_errors_are_one_line(text, message):
    with pytest.raises(ValueError) as info:
        parse_split(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_assignment_follows_the_cumulative_fractions():
    assert hash_point("0" * 64) == 0.0
    assert assign("0" * 64, TVT) == "train"
    assert assign("cccccccccccc" + "0" * 52, TVT) == "train"  # u just below 0.8
    assert assign("cccccccccccd" + "0" * 52, TVT) == "val"  # u just above 0.8
    assert assign("e" + "0" * 63, TVT) == "val"  # u = 0.875
    assert assign("f" * 64, TVT) == "test"
    # Fractions that sum a hair under 1 still place the very top of [0, 1) in the last split.
    thirds = parse_split("a:0.3333333,b:0.3333333,c:0.3333333")
    assert assign("f" * 64, thirds) == "c"


def test_every_image_gets_one_split_near_its_fraction():
    names = [assign(sha(n), TVT) for n in range(20_000)]
    counts = Counter(names)
    assert set(counts) == {"train", "val", "test"}
    assert abs(counts["train"] / 20_000 - 0.8) < 0.015
    assert abs(counts["val"] / 20_000 - 0.1) < 0.01
    # The same hash always gets the same split, and depends on nothing else.
    assert [assign(sha(n), TVT) for n in range(20_000)] == names
