"""Run the fake web standalone: ``python -m tests.fakeweb --port 8999``.

Prints the environment lines that point PixCrawler's engines at it, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from tests.fakeweb.server import FakeWeb, FakeWebConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeweb", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--results", type=int, default=60, help="image results per keyword")
    parser.add_argument("--image-hosts", type=int, default=1,
                        help="spread result images over 127.0.0.1..N")
    args = parser.parse_args(argv)
    web = FakeWeb(args.host, args.port, FakeWebConfig(results_per_keyword=args.results),
                  image_hosts=args.image_hosts)
    with web:
        for name, value in web.engine_env().items():
            print(f"{name}={value}", flush=True)
        print(f"fake web listening on {web.base_url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
