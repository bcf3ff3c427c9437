"""The search filter options of `crawl` and `jobs create`, and the Filters they make.

Engines that cannot apply a filter still run; the server says so in the chunk's warnings,
which the commands print, so a filter is never dropped without the user hearing of it.
"""

from __future__ import annotations

import argparse
import re

from pixcrawler_desktop.client import COLORS, IMAGE_TYPES, LICENSES, Filters

MAX_SIDE = 100_000
SIZE = re.compile(r"\s*(\d+)\s*[x×X]\s*(\d+)\s*")


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "search filters",
        "engines that cannot apply a filter say so in the chunk warnings; "
        "`pixcrawler engines` lists who applies what",
    )
    group.add_argument(
        "--safe-search",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask the engines for safe results (default: on)",
    )
    group.add_argument(
        "--min-size",
        type=min_size,
        metavar="WxH",
        help="leave out images smaller than this, e.g. 640x480",
    )
    group.add_argument(
        "--license",
        choices=LICENSES,
        metavar="LICENSE",
        help="licence the images must allow: " + ", ".join(LICENSES),
    )
    group.add_argument(
        "--type",
        dest="image_type",
        choices=IMAGE_TYPES,
        metavar="TYPE",
        help="kind of image: " + ", ".join(IMAGE_TYPES),
    )
    group.add_argument(
        "--color", choices=COLORS, metavar="COLOR", help="dominant colour: " + ", ".join(COLORS)
    )


def min_size(text: str) -> tuple[int, int]:
    match = SIZE.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 640x480")
    width, height = int(match[1]), int(match[2])
    if width > MAX_SIDE or height > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"sides must be at most {MAX_SIDE}")
    return width, height


def filters_from(args: argparse.Namespace) -> Filters | None:
    """None when no filter option was given: the server's defaults then apply, and a server
    that predates filters still accepts the job."""
    given = {
        name: value
        for name, value in (
            ("safe_search", args.safe_search),
            ("license", args.license),
            ("image_type", args.image_type),
            ("color", args.color),
        )
        if value is not None
    }
    if args.min_size is not None:
        given["min_width"], given["min_height"] = args.min_size
    return Filters(**given) if given else None


def describe_filters(filters: Filters) -> str:
    """`safe search on, at least 640×480, licence commercial` for `jobs show`."""
    parts = [f"safe search {'on' if filters.safe_search else 'off'}"]
    if filters.min_width or filters.min_height:
        parts.append(f"at least {filters.min_width}×{filters.min_height}")
    for label, value in (
        ("licence", filters.license),
        ("type", filters.image_type),
        ("colour", filters.color),
    ):
        if value != "any":
            parts.append(f"{label} {value}")
    return ", ".join(parts)
