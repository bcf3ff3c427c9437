"""Downloader against real HTTP on loopback (FakeWeb), plus magic bytes and the address guard."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, features

from tests.fakeweb.server import FakeWeb, FakeWebConfig
from worker.crawl import magic
from worker.crawl.downloader import Downloader, DownloadOptions, parse_retry_after
from worker.crawl.netguard import is_public_address
from worker.crawl.types import DownloadError, Fetched


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb(config=FakeWebConfig()) as server:
        yield server


@pytest.fixture
def temp_dir(tmp_path: Path) -> Path:
    path = tmp_path / "tmp"
    path.mkdir()
    return path


def fetch(url: str, temp_dir: Path, **options: Any) -> Fetched:
    """One download with test-friendly defaults: loopback allowed, tiny backoff."""
    options = {"allow_private": True, "backoff_base": 0.01, **options}

    async def go() -> Fetched:
        async with Downloader(DownloadOptions(**options)) as downloader:
            return await downloader.fetch(url, temp_dir)

    return asyncio.run(go())


def fetch_error(url: str, temp_dir: Path, **options: Any) -> str:
    with pytest.raises(DownloadError) as info:
        fetch(url, temp_dir, **options)
    assert list(temp_dir.iterdir()) == [], "a failed download must leave no temp file"
    return str(info.value)


# -- magic bytes --------------------------------------------------------------------------------


def encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 90)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("pil_format", "expected"),
    [
        ("JPEG", ("jpeg", "jpg")),
        ("PNG", ("png", "png")),
        ("GIF", ("gif", "gif")),
        ("WEBP", ("webp", "webp")),
        ("BMP", ("bmp", "bmp")),
        ("TIFF", ("tiff", "tiff")),
    ],
)
def test_magic_recognises_real_images(pil_format: str, expected: tuple[str, str]) -> None:
    assert magic.sniff(encoded(pil_format)[: magic.HEAD_SIZE]) == expected


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_magic_recognises_real_avif() -> None:
    assert magic.sniff(encoded("AVIF")[: magic.HEAD_SIZE]) == ("avif", "avif")


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (len(body) + 4).to_bytes(4, "big") + body + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (ftyp(b"heic", b"mif1", b"heic"), ("heic", "heic")),
        (ftyp(b"mif1", b"heix"), ("heic", "heic")),
        (ftyp(b"avif", b"mif1", b"miaf"), ("avif", "avif")),
        (ftyp(b"mif1", b"avif", b"miaf"), ("avif", "avif")),
        (ftyp(b"isom", b"mp41"), None),  # an MP4 video is not an image
        (b"<!DOCTYPE html><html><body>Hotlinking not allowed</body></html>", None),
        (b"BM is how this text file starts, not a bitmap", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"", None),
        (b"\xff\xd8", None),  # too short to be a JPEG
    ],
)
def test_magic_edge_cases(head: bytes, expected: tuple[str, str] | None) -> None:
    assert magic.sniff(head) == expected


def test_magic_describes_non_images() -> None:
    assert magic.describe(b"\n <!doctype html><html>") == "HTML page"
    assert magic.describe(b"") == "empty body"
    assert magic.describe(b"\x00\x01\x02").startswith("unknown bytes 00 01 02")


# -- clean downloads ----------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["jpg", "png", "webp", "gif", "bmp"])
def test_downloads_verified_image(web: FakeWeb, temp_dir: Path, ext: str) -> None:
    fetched = fetch(web.image_url("plain", ext), temp_dir)
    body = web.image_bytes("plain", ext)
    assert fetched.temp_path.parent == temp_dir
    assert fetched.temp_path.read_bytes() == body
    assert fetched.sha256 == hashlib.sha256(body).hexdigest()
    assert fetched.size == len(body)
    assert fetched.extension == ("jpg" if ext == "jpg" else ext)
    assert fetched.format == {"jpg": "jpeg"}.get(ext, ext)
    assert (fetched.width, fetched.height) == web.config.image_size


def test_wrong_content_type_is_accepted_by_magic_bytes(web: FakeWeb, temp_dir: Path) -> None:
    fetched = fetch(web.image_url("typed", wrongtype=1), temp_dir)
    assert fetched.temp_path.read_bytes() == web.image_bytes("typed")
    assert fetched.format == "jpeg"


def test_html_sent_as_jpeg_is_refused(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("hotlink", html=1)
    assert fetch_error(url, temp_dir) == "not an image (HTML page)"
    assert web.hits("/img/hotlink") == 1  # not retried


def test_redirects_are_followed(web: FakeWeb, temp_dir: Path) -> None:
    fetched = fetch(web.image_url("moved", redirect=3), temp_dir)
    assert fetched.temp_path.read_bytes() == web.image_bytes("moved")
    assert web.hits("/img/moved") == 4
    assert "redirect=0" in fetched.url


def test_too_many_redirects_fail(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.image_url("loop", redirect=9), temp_dir)
    assert message == "too many redirects (more than 5)"
    assert web.hits("/img/loop") == 6


def test_unsupported_scheme(temp_dir: Path) -> None:
    assert fetch_error("ftp://example.com/a.jpg", temp_dir) == "unsupported URL scheme 'ftp'"


# -- retries ------------------------------------------------------------------------------------


def test_429_retry_after_is_waited_for(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("busy", status429=1, retry_after=1)
    before = time.monotonic()
    fetched = fetch(url, temp_dir, backoff_base=0.0)
    # backoff is switched off, so only the server's Retry-After can account for the pause
    assert time.monotonic() - before >= 0.9  # lower bound; timer slack allowed
    assert fetched.temp_path.read_bytes() == web.image_bytes("busy")
    assert web.hits("/img/busy") == 2


def test_503_retry_after_beyond_limit_fails_at_once(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("later", status503=1, retry_after=600)
    message = fetch_error(url, temp_dir, max_retry_after=120)
    assert "retry after 600s" in message and "max_retry_after" in message
    assert web.hits("/img/later") == 1


def test_500_is_retried(web: FakeWeb, temp_dir: Path) -> None:
    fetched = fetch(web.image_url("flaky", status500=2), temp_dir)
    assert fetched.temp_path.read_bytes() == web.image_bytes("flaky")
    assert web.hits("/img/flaky") == 3


def test_500_gives_up_after_max_retries(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.image_url("down", status500=50), temp_dir, max_retries=2)
    assert message == "HTTP 500 (gave up after 3 attempts)"
    assert web.hits("/img/down") == 3


def test_404_is_not_retried(web: FakeWeb, temp_dir: Path) -> None:
    assert fetch_error(web.image_url("gone", status404=1), temp_dir) == "HTTP 404"
    assert web.hits("/img/gone") == 1


# -- broken transfers ---------------------------------------------------------------------------


def test_truncated_body_is_never_returned(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.image_url("cut", cut=1), temp_dir, max_retries=1)
    assert message.startswith("truncated")
    assert web.hits("/img/cut") == 2  # a dropped connection is worth one more try


@pytest.mark.parametrize("ext", ["jpg", "png", "gif", "webp"])
def test_body_ending_cleanly_mid_image_is_refused(web: FakeWeb, temp_dir: Path, ext: str) -> None:
    """No Content-Length and a clean end, but half an image: caught by its missing end mark."""
    message = fetch_error(web.image_url(f"half-{ext}", ext=ext, truncate=1), temp_dir)
    assert message.startswith("truncated"), message
    assert not any(temp_dir.iterdir())


def test_hang_times_out(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("stuck", hang=1)
    message = fetch_error(url, temp_dir, timeout_sock_read=0.3, timeout_total=3, max_retries=0)
    assert message == "timed out (gave up after 1 attempt)"


@pytest.mark.parametrize("declared", [False, True])
def test_byte_limit(web: FakeWeb, temp_dir: Path, declared: bool) -> None:
    url = web.image_url("huge", huge=1, huge_mb=4, huge_length=int(declared))
    message = fetch_error(url, temp_dir, max_bytes=1024 * 1024)
    if declared:
        assert message == f"too large: {4 * 1024 * 1024} bytes (limit 1048576)"
    else:
        assert message == "too large: more than 1048576 bytes"


def test_decompression_bomb_is_unreadable(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.image_url("bomb", "png", bomb=1), temp_dir)
    assert message.startswith("unreadable image (DecompressionBombError")


def test_dead_host(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.dead_url(), temp_dir, max_retries=1)
    assert message.startswith("connection failed")
    assert message.endswith("(gave up after 2 attempts)")


def test_cancelled_download_leaves_no_temp_file(web: FakeWeb, temp_dir: Path) -> None:
    # A body past spill_bytes streams to a temp file; the hung one stops after 64 bytes.
    async def go() -> None:
        async with Downloader(DownloadOptions(allow_private=True, spill_bytes=16)) as downloader:
            task = asyncio.create_task(downloader.fetch(web.image_url("slow", hang=1), temp_dir))
            deadline = time.monotonic() + 10
            while not list(temp_dir.iterdir()):  # the hung body has begun streaming to disk
                assert time.monotonic() < deadline, "download never started"
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())
    assert list(temp_dir.iterdir()) == []


def test_large_bodies_spill_to_disk_and_keep_their_hash(web: FakeWeb, temp_dir: Path) -> None:
    web.config.image_size = (640, 480)
    body = web.image_bytes("big")

    async def go() -> Fetched:
        async with Downloader(DownloadOptions(allow_private=True, spill_bytes=1024)) as downloader:
            return await downloader.fetch(web.image_url("big"), temp_dir)

    fetched = asyncio.run(go())
    assert fetched.temp_path.read_bytes() == body
    assert fetched.sha256 == hashlib.sha256(body).hexdigest()
    assert (fetched.width, fetched.height) == (640, 480)


# -- politeness and safety ----------------------------------------------------------------------


def test_robots_disallow_and_single_robots_fetch(web: FakeWeb, temp_dir: Path) -> None:
    web.config.robots_disallow = ["/img/secret"]

    async def go() -> list[BaseException | Fetched]:
        async with Downloader(DownloadOptions(allow_private=True)) as downloader:
            urls = [web.image_url(f"secret-{i}") for i in range(3)] + [web.image_url("open")]
            return await asyncio.gather(
                *(downloader.fetch(u, temp_dir) for u in urls), return_exceptions=True
            )

    *refused, allowed = asyncio.run(go())
    assert [str(r) for r in refused] == ["disallowed by robots.txt"] * 3
    assert isinstance(allowed, Fetched)
    assert web.hits("/img/secret") == 0
    assert web.hits("/robots.txt") == 1


def test_robots_can_be_switched_off(web: FakeWeb, temp_dir: Path) -> None:
    web.config.robots_disallow = ["/img/"]
    fetched = fetch(web.image_url("ignored"), temp_dir, respect_robots=False)
    assert fetched.temp_path.read_bytes() == web.image_bytes("ignored")
    assert web.hits("/robots.txt") == 0


def test_private_ip_literal_is_refused(web: FakeWeb, temp_dir: Path) -> None:
    message = fetch_error(web.image_url("inside"), temp_dir, allow_private=False)
    assert message == "refused: 127.0.0.1 resolves to a private address"
    assert web.hits() == 0  # not even robots.txt was requested


def test_private_host_name_is_refused_by_the_resolver(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("inside").replace("127.0.0.1", "localhost")
    for robots in (True, False):
        message = fetch_error(url, temp_dir, allow_private=False, respect_robots=robots)
        assert message == "refused: localhost resolves to a private address"
    assert web.hits() == 0


def test_private_address_allowed_when_configured(web: FakeWeb, temp_dir: Path) -> None:
    url = web.image_url("inside").replace("127.0.0.1", "localhost")
    fetched = fetch(url, temp_dir, allow_private=True)
    assert fetched.temp_path.read_bytes() == web.image_bytes("inside")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),  # documentation
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("not-an-ip", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_host_interval_spaces_requests(web: FakeWeb, temp_dir: Path) -> None:
    async def go() -> None:
        options = DownloadOptions(allow_private=True, respect_robots=False, host_interval=0.2)
        async with Downloader(options) as downloader:
            await asyncio.gather(
                *(downloader.fetch(web.image_url(f"i{i}"), temp_dir) for i in range(4))
            )

    before = time.monotonic()
    asyncio.run(go())
    # a lower bound only (a slow machine can only make it longer): 4 starts need 3 gaps
    assert time.monotonic() - before >= 0.55
    assert web.hits("/img/") == 4


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 50 < parse_retry_after(in_a_minute) <= 60  # type: ignore[operator]
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
