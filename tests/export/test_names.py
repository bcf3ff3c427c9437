"""Names inside an export: safe single path parts, unique folders, the CLI's file names."""

from __future__ import annotations

import re

import pytest

from worker.export.names import archive_names, file_name, keyword_folders, slugify


@pytest.mark.parametrize(
    ("keyword", "slug"),
    [
        ("golden retriever", "golden-retriever"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "keyword"),
        ("", "keyword"),
        ("a\\b/c:d*e?f", "a-b-c-d-e-f"),
        ("CON", "CON-"),
        ("lpt1", "lpt1-"),
        ("con.txt", "con-txt"),
        ("  .hidden. ", "hidden"),
        ("chat noir ÉTÉ", "chat-noir-ÉTÉ"),
        ("日本 語", "日本-語"),
        ("ﬁsh", "fish"),
    ],
)
def test_slug_is_one_safe_path_part(keyword, slug):
    assert slugify(keyword) == slug
    assert "/" not in slug and "\\" not in slug and slug not in (".", "..")


def test_long_slug_fits_a_file_name():
    for text in ("猫" * 300, "a" * 500, "😀x" * 200):
        slug = slugify(text)
        assert 0 < len(slug) <= 80 and len(slug.encode()) <= 200


def test_folders_are_unique_even_ignoring_case():
    assert keyword_folders(["C++", "C#", "c", "dog", "dog", "Dog"]) == {
        "C++": "C",
        "C#": "C-2",
        "c": "c-3",
        "dog": "dog",
        "Dog": "Dog-2",
    }


def test_file_name_matches_the_cli_style():
    sha = "0123456789abcdef" * 4
    assert file_name("bing", 7, sha, "jpeg") == "bing-0007-0123456789ab.jpg"
    assert file_name("duckduckgo", 12345, sha, "PNG") == "duckduckgo-12345-0123456789ab.png"
    assert file_name("../../x", 1, sha, "../sh") == "x-0001-0123456789ab.sh"
    assert file_name("bing", 1, sha, "tiff").endswith(".tif")


def test_archive_names_are_header_safe():
    assert archive_names("My cats!", 12) == ("My-cats-12.zip", "My-cats-12.zip")
    plain, full = archive_names("Été 日本", 3)
    assert plain == "Ete-3.zip" and full == "Été-日本-3.zip"
    assert archive_names("日本", 4)[0] == "job-4.zip"
    assert archive_names('a"b\\c', 5)[0] == "a-b-c-5.zip"


@pytest.mark.parametrize(("keyword", "folder"), [
    ("test tube", "test+tube"), ("train", "train+"), ("dev board", "dev+board"),
    ("validation", "validation+"), ("unit test", "unit-test+"), ("Test 2", "Test+2"),
    ("contest", "contest"), ("red fox", "red-fox"), ("eval.set", "eval+set"),
])
def test_class_folders_never_read_as_split_names(keyword, folder):
    """`datasets` takes any folder named with a split word, or with one next to "-._ " or a
    digit, for that split, wherever it sits."""
    assert keyword_folders([keyword]) == {keyword: folder}
    words = re.split(r"[-._ 0-9]+", folder)
    assert not set(words) & {"train", "test", "dev", "validation", "val", "valid", "eval"}
