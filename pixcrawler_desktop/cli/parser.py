"""The command line: `pixcrawler [options] COMMAND …`.

The connection options (--server, --email, --password-stdin, --json, --quiet) are accepted
before the command and after it alike, so `pixcrawler jobs list --json` works as well as
`pixcrawler --json jobs list`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pixcrawler_desktop.cli import commands, crawl, export
from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import EPILOG
from pixcrawler_desktop.cli.filters import add_filter_options
from pixcrawler_desktop.client import (
    DEFAULT_MAX_IMAGES,
    EXPORT_FORMATS,
    EXPORT_INCLUDE,
    JOB_STATUSES,
    MAX_IMAGES,
    VALIDATION_LEVELS,
)
from pixcrawler_desktop.version import version_line

DEFAULT_ENGINES = "bing,duckduckgo"
Handler = Callable[[argparse.Namespace, Context], int]
SERVER_HELP = "PixCrawler server (default: the one you last signed in to)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixcrawler", allow_abbrev=False, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Turn keyword searches into image datasets. `crawl` runs on this computer "
                    "(or on --server); the other commands talk to a PixCrawler server.")
    parser.add_argument("--version", action="version", version=version_line("pixcrawler"))
    _common(parser, subcommand=False)
    commands_ = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = _adder(commands_)

    p = sub("crawl", crawl.run, "crawl keywords and write the images to a dataset folder",
            server_help="use this server (signed in with `login`) instead of the local backend")
    p.add_argument("keywords", nargs="+", metavar="KEYWORD")
    _job_options(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="dataset folder to create (must be new or empty)")
    _dataset_options(p)
    _data_dir_option(p)
    p.add_argument("--concurrency", type=_int_range(1, 64), default=4, metavar="N",
                   help="local worker threads (default: 4)")

    sub("login", commands.login, "sign in to --server and remember it")
    sub("logout", commands.logout, "forget the stored sign-in")
    sub("engines", commands.engines,
        "the server's engines: kind, whether it can use them, the filters they apply")

    jobs = sub("jobs", None, "list, inspect and control jobs on the server")
    jobs_sub = _adder(jobs.add_subparsers(dest="jobs_command", metavar="ACTION",
                                          required=True))
    p = jobs_sub("list", commands.jobs_list, "list your jobs, newest first")
    p.add_argument("--status", choices=JOB_STATUSES)
    _job_arg(jobs_sub("show", commands.jobs_show, "a job and its keyword × engine chunks"))
    p = jobs_sub("create", commands.jobs_create, "create a job (and start it with --start)")
    p.add_argument("keywords", nargs="+", metavar="KEYWORD")
    _job_options(p)
    p.add_argument("--start", action="store_true", help="start it right away")
    _job_arg(jobs_sub("start", commands.jobs_start, "start a pending job"))
    _job_arg(jobs_sub("cancel", commands.jobs_cancel, "cancel a pending or running job"))
    _job_arg(jobs_sub("retry", commands.jobs_retry, "re-run a finished job's failed chunks"))
    _job_arg(jobs_sub("delete", commands.jobs_delete, "delete a job and its files"))
    _job_arg(jobs_sub("watch", commands.jobs_watch,
                      "follow a job until it ends (exit 0 only if it completed)"))

    p = sub("validate", commands.validate, "validate a job's images")
    _job_arg(p)
    p.add_argument("--level", choices=VALIDATION_LEVELS, default="medium")
    p.add_argument("--wait", action="store_true",
                   help="wait for the run to finish and print its summary")

    p = sub("export", export.run, "save a job's images as a dataset folder or zip file")
    _job_arg(p)
    p.add_argument("--out", required=True, metavar="PATH",
                   help="dataset folder to create (must be new or empty), or with --zip the "
                        "zip file (an existing folder: the server's file name inside it)")
    p.add_argument("--zip", action="store_true", help="save the zip instead of a folder")
    _dataset_options(p)
    p.add_argument("--local", action="store_true",
                   help="a job of the local backend (the default when you never signed in)")
    _data_dir_option(p)
    return parser


def _data_dir_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="local backend's data folder (default: PIXCRAWLER_DATA_DIR or the user "
                        "data folder)")


def _dataset_options(p: argparse.ArgumentParser) -> None:
    """What the dataset holds and how it is laid out: the same for `crawl --out` and `export`
    (both are the server's export)."""
    p.add_argument("--include", choices=EXPORT_INCLUDE, default="all",
                   help="all images but rejected ones (default), those validation found "
                        "valid, or only those a person accepted (reviewed)")
    p.add_argument("--split", type=export.split_spec, metavar="SPEC",
                   help="train/val/test folders by fraction, e.g. train:0.8,val:0.1,test:0.1")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="imagefolder",
                   help="imagefolder (default): <split>/<class>/<file> and manifests; "
                        "huggingface: the same, with metadata.jsonl and a dataset card; "
                        "webdataset: tar shards per split; parquet: a Parquet file per split "
                        "(needs pyarrow on the server)")
    p.add_argument("--shard-mb", type=_int_range(1, 100_000), metavar="MB",
                   help="webdataset: the most MB in one tar shard (default: 1000)")


def _adder(subparsers: argparse._SubParsersAction) -> Callable[..., argparse.ArgumentParser]:
    """A function adding one subcommand with the common options and its handler."""
    def add(name: str, handler: Handler | None, help_text: str, *,
            server_help: str = SERVER_HELP) -> argparse.ArgumentParser:
        p = subparsers.add_parser(name, help=help_text, description=help_text,
                                  allow_abbrev=False)
        _common(p, subcommand=True, server_help=server_help)
        if handler is not None:
            p.set_defaults(handler=handler)
        return p

    return add


def _common(parser: argparse.ArgumentParser, *, subcommand: bool,
            server_help: str = SERVER_HELP) -> None:
    """On subcommands the default is SUPPRESS, so an option given before the command is not
    overwritten by the subcommand's unset one."""
    def d(value: object) -> object:
        return argparse.SUPPRESS if subcommand else value

    parser.add_argument("--server", metavar="URL", default=d(None), help=server_help)
    parser.add_argument("--email", default=d(None), help="account email")
    parser.add_argument("--password-stdin", action="store_true", default=d(False),
                        help="read the password from the first line of standard input")
    parser.add_argument("--json", action="store_true", default=d(False),
                        help="print JSON on stdout (and nothing else)")
    parser.add_argument("-q", "--quiet", action="store_true", default=d(False),
                        help="no progress or notes on stderr")


def _job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engines", type=_engines, default=_engines(DEFAULT_ENGINES),
                   metavar="LIST", help=f"comma-separated engines (default: {DEFAULT_ENGINES})")
    p.add_argument("--max-images", type=_int_range(1, MAX_IMAGES), default=DEFAULT_MAX_IMAGES,
                   metavar="N", help=f"images per keyword (default: {DEFAULT_MAX_IMAGES})")
    p.add_argument("--validate", choices=VALIDATION_LEVELS, metavar="LEVEL",
                   help="validate at this level when the crawl is done: "
                        + ", ".join(VALIDATION_LEVELS))
    p.add_argument("--name", help="job name (default: from the keywords)")
    p.add_argument("--no-robots", action="store_true", help="ignore robots.txt")
    p.add_argument("--no-fill", action="store_true",
                   help="keep each engine to its share of a keyword's images (by default an "
                        "engine that runs short hands the rest to the keyword's other engines)")
    add_filter_options(p)


def _job_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", type=_int_range(1, None), metavar="JOB", help="job id")


def _engines(text: str) -> list[str]:
    names = list(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names:
        raise argparse.ArgumentTypeError("name at least one engine")
    return names


def _int_range(low: int, high: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}")
        return value

    return parse
