"""The fake web itself: every knob other tests rely on does what it promises, over real HTTP."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.fakeweb import FakeWeb, FakeWebConfig
from tests.fakeweb.pages import ddg_vqd
from worker.crawl.engines import ENGINES

REPO = Path(__file__).resolve().parents[2]


def get(url: str, *, timeout: float = 10, headers: dict[str, str] | None = None):
    """urllib GET that returns the response for error statuses too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        return exc


@contextmanager
def raw(url: str, timeout: float = 10) -> Iterator[http.client.HTTPResponse]:
    """A response from http.client, which shows truncation instead of hiding it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        yield conn.getresponse()
    finally:
        conn.close()


# ------------------------------------------------------------------ clean images


@pytest.mark.parametrize(
    ("ext", "pil_format", "ctype"),
    [
        ("jpg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
        ("gif", "GIF", "image/gif"),
    ],
)
def test_images_are_real_and_match_image_bytes(
    fakeweb: FakeWeb, ext: str, pil_format: str, ctype: str
) -> None:
    resp = get(fakeweb.image_url("tabby", ext))
    body = resp.read()
    assert resp.status == 200
    assert resp.headers["Content-Type"] == ctype
    assert body == fakeweb.image_bytes("tabby", ext)
    with Image.open(io.BytesIO(body)) as img:
        img.load()
        assert img.format == pil_format
        assert img.size == (320, 240)


def test_images_differ_per_name_and_follow_the_configured_size(fakeweb: FakeWeb) -> None:
    assert fakeweb.image_bytes("a") != fakeweb.image_bytes("b")
    fakeweb.config.image_size = (64, 48)
    body = get(fakeweb.image_url("a")).read()
    assert body == fakeweb.image_bytes("a")
    with Image.open(io.BytesIO(body)) as img:
        assert img.size == (64, 48)
        colours = img.convert("RGB").getcolors(64 * 48) or []
        assert len(colours) > 4  # a picture, not a blank square
    assert get(fakeweb.image_url("a", "tiff")).status == 404


# ------------------------------------------------------------------ status faults


@pytest.mark.parametrize("status", [429, 503])
def test_first_n_requests_get_the_status_with_retry_after(fakeweb: FakeWeb, status: int) -> None:
    url = fakeweb.image_url("x", **{f"status{status}": 2, "retry_after": 3})
    for _ in range(2):
        resp = get(url)
        assert resp.status == status
        assert resp.headers["Retry-After"] == "3"
    ok = get(url)
    assert ok.status == 200
    assert ok.read() == fakeweb.image_bytes("x")
    fakeweb.reset()  # re-arms per-URL faults
    assert get(url).status == status


def test_status500_then_success_and_404_forever(fakeweb: FakeWeb) -> None:
    url = fakeweb.image_url("y", status500=1)
    first = get(url)
    assert first.status == 500
    assert "Retry-After" not in first.headers
    assert get(url).status == 200
    gone = fakeweb.image_url("y", status404=1)
    assert [get(gone).status for _ in range(3)] == [404, 404, 404]


# ------------------------------------------------------------------ body faults


def test_truncate_sends_a_cleanly_ended_half_image(fakeweb: FakeWeb) -> None:
    full = fakeweb.image_bytes("t")
    resp = get(fakeweb.image_url("t", truncate=1))
    body = resp.read()
    assert resp.headers.get("Content-Length") is None
    assert body == full[: len(full) // 2]
    with Image.open(io.BytesIO(body)) as img, pytest.raises(OSError):
        img.load()


def test_cut_drops_the_connection_mid_body(fakeweb: FakeWeb) -> None:
    full = fakeweb.image_bytes("c")
    with raw(fakeweb.image_url("c", cut=1)) as resp:
        assert resp.headers["Content-Length"] == str(len(full))
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
    assert info.value.partial == full[: len(full) // 2]


def test_html_and_wrongtype_lie_about_content(fakeweb: FakeWeb) -> None:
    fake = get(fakeweb.image_url("h", html=1))
    assert fake.headers["Content-Type"] == "image/jpeg"
    assert fake.read().startswith(b"<!DOCTYPE html>")
    mislabelled = get(fakeweb.image_url("h", wrongtype=1))
    assert mislabelled.headers["Content-Type"].startswith("text/html")
    assert mislabelled.read() == fakeweb.image_bytes("h")


def test_redirect_hops_then_serves_the_image(fakeweb: FakeWeb) -> None:
    resp = get(fakeweb.image_url("r", redirect=3))
    assert resp.read() == fakeweb.image_bytes("r")
    assert "redirect=0" in resp.geturl()
    assert fakeweb.hits("/img/r.jpg") == 4
    with raw(fakeweb.image_url("r", redirect=1)) as first_hop:
        assert first_hop.status == 302
        assert first_hop.headers["Location"].startswith(fakeweb.base_url + "/img/r.jpg?")


def test_hang_sends_headers_then_nothing(fakeweb: FakeWeb) -> None:
    with raw(fakeweb.image_url("slow", hang=1), timeout=0.3) as resp:
        assert resp.status == 200
        with pytest.raises(TimeoutError):
            resp.read()


def test_latency_knobs_delay_answers_past_a_short_timeout(fakeweb: FakeWeb) -> None:
    with pytest.raises(TimeoutError):
        get(fakeweb.image_url("l", latency=30), timeout=0.2)
    fakeweb.config.latency = 30
    with pytest.raises(TimeoutError):
        get(fakeweb.image_url("l2"), timeout=0.2)
    fakeweb.config.latency = 0
    fakeweb.config.search_latency = 30
    with pytest.raises(TimeoutError):
        get(f"{fakeweb.base_url}/images/search?q=x", timeout=0.2)
    assert get(fakeweb.image_url("l3")).status == 200  # images unaffected by search latency


def test_huge_streams_jpeg_looking_bytes_without_length(fakeweb: FakeWeb) -> None:
    with raw(fakeweb.image_url("big", huge=1)) as resp:
        assert resp.headers.get("Content-Length") is None
        head = resp.read(2 * 1024 * 1024)
        assert head[:3] == b"\xff\xd8\xff"
        assert len(head) == 2 * 1024 * 1024
    with raw(fakeweb.image_url("big", huge=1, huge_length=1)) as resp:
        assert resp.headers["Content-Length"] == str(64 * 1024 * 1024)


def test_bomb_is_refused_by_pillow(fakeweb: FakeWeb) -> None:
    body = get(fakeweb.image_url("boom", "png", bomb=1)).read()
    assert len(body) < 64 * 1024
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(body))


def test_dead_url_refuses_connections(fakeweb: FakeWeb) -> None:
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(fakeweb.dead_url(), timeout=5)
    assert isinstance(info.value.reason, ConnectionRefusedError)


# ------------------------------------------------------------------ search results


def test_results_carry_configured_faults_and_duplicates(fakeweb: FakeWeb) -> None:
    fakeweb.config.faults = {"dog": {3: "status429=1&retry_after=2"}}
    fakeweb.config.duplicate_every = 4
    url3 = fakeweb.result_image_url("dog", 3)
    assert url3 == fakeweb.image_url("dog-3", status429=1, retry_after=2)
    assert get(url3).status == 429
    dup = fakeweb.result_image_url("dog", 4)
    assert dup != fakeweb.result_image_url("dog", 3)
    assert get(dup).read() == fakeweb.image_bytes("dog-3")
    assert get(fakeweb.result_image_url("dog", 5)).read() == fakeweb.image_bytes("dog-5")
    fakeweb.config.duplicate_every = 1  # every result copies result 0
    assert get(fakeweb.result_image_url("dog", 7)).read() == fakeweb.image_bytes("dog-0")


def test_bing_pages_are_paged_like_bing(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 50
    first = get(f"{fakeweb.base_url}/images/search?q=dog&first=1&count=35&form=HDRSC2")
    assert first.read().decode().count('class="iusc"') == 35
    rest = get(f"{fakeweb.base_url}/images/async?q=dog&first=36&count=35&mmasync=1").read()
    assert rest.decode().count('class="iusc"') == 15
    assert "dog-49.jpg" in rest.decode()
    end = get(f"{fakeweb.base_url}/images/async?q=dog&first=51&count=35&mmasync=1").read()
    assert b"dgControl_list" in end and b"iusc" not in end


def test_blocked_and_broken_bing(fakeweb: FakeWeb) -> None:
    fakeweb.config.blocked = {"bing"}
    blocked = get(f"{fakeweb.base_url}/images/search?q=dog")
    assert "/turing/captcha/challenge" in blocked.geturl()
    assert b"captcha" in blocked.read()
    fakeweb.config.blocked = set()
    fakeweb.config.broken = {"bing"}
    broken = get(f"{fakeweb.base_url}/images/search?q=dog")
    assert broken.status == 200
    assert b"iusc" not in broken.read()


def test_duckduckgo_needs_token_and_referer(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 120
    page = get(f"{fakeweb.base_url}/?q=dog&iax=images&ia=images").read().decode()
    token = ddg_vqd("dog")
    assert f'vqd="{token}"' in page
    ijs = f"{fakeweb.base_url}/i.js?l=us-en&o=json&q=dog&vqd={token}&f=,,,,,&p=1"
    referer = {"Referer": fakeweb.base_url + "/"}
    assert get(ijs).status == 403
    assert get(ijs.replace(token, "4-1-2"), headers=referer).status == 403
    data = json.load(get(ijs, headers=referer))
    assert len(data["results"]) == 100
    assert data["next"].startswith("i.js?q=dog&o=json&p=1&s=100&")
    last = json.load(get(f"{fakeweb.base_url}/{data['next']}", headers=referer))
    assert len(last["results"]) == 20
    assert "next" not in last
    fakeweb.config.blocked = {"duckduckgo"}
    assert get(ijs, headers=referer).status == 403
    fakeweb.config.blocked = set()
    fakeweb.config.broken = {"duckduckgo"}
    broken = get(ijs, headers=referer)
    assert broken.status == 200
    assert b"results" not in broken.read()


def test_result_pages_and_thumbnails_are_served(fakeweb: FakeWeb) -> None:
    page = get(f"{fakeweb.base_url}/page/dog-2.html").read().decode()
    assert fakeweb.image_url("dog-2") in page
    thumb = get(f"{fakeweb.base_url}/th?id=OIP.dog-2&pid=15.1").read()
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.size == (80, 60)


# ------------------------------------------------------------------ robots, counters, lifecycle


def test_robots_txt_follows_config(fakeweb: FakeWeb) -> None:
    assert get(f"{fakeweb.base_url}/robots.txt").read() == b"User-agent: *\nDisallow:\n"
    fakeweb.config.robots_disallow = ["/img/private", "/page"]
    assert get(f"{fakeweb.base_url}/robots.txt").read().decode().splitlines() == [
        "User-agent: *",
        "Disallow: /img/private",
        "Disallow: /page",
    ]


def test_hits_count_concurrent_requests_and_reset_clears_them(fakeweb: FakeWeb) -> None:
    def fetch_some(worker: int) -> None:
        for i in range(10):
            get(fakeweb.image_url(f"w{worker}-{i}")).read()

    threads = [threading.Thread(target=fetch_some, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    get(f"{fakeweb.base_url}/robots.txt").read()
    assert fakeweb.hits("/img/") == 80
    assert fakeweb.hits("/img/w3-") == 10
    assert fakeweb.hits() == 81
    fakeweb.reset()
    assert fakeweb.hits() == 0


def test_engine_urls_and_restartable_lifecycle() -> None:
    config = FakeWebConfig(results_per_keyword=3)
    web = FakeWeb(config=config).start()
    try:
        assert web.engine_urls() == dict.fromkeys(ENGINES, web.base_url)
        assert web.config is config
        assert get(f"{web.base_url}/robots.txt").status == 200
    finally:
        web.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{web.base_url}/robots.txt", timeout=5)
    web.stop()  # idempotent


def test_standalone_module_prints_engine_urls_and_serves() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeweb", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert lines[:2] == [
            f"PIXCRAWLER_ENGINE_BING_URL=http://127.0.0.1:{port}",
            f"PIXCRAWLER_ENGINE_DUCKDUCKGO_URL=http://127.0.0.1:{port}",
        ]
        # The lines are printed only once the socket listens, so one request must succeed.
        assert get(f"http://127.0.0.1:{port}/robots.txt").status == 200
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_image_hosts_spread_results_over_loopback_addresses() -> None:
    with FakeWeb(image_hosts=3) as web:
        urls = [web.result_image_url("owl", i) for i in range(4)]
        hosts = [urlsplit(u).hostname for u in urls]
        assert hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.1"]
        assert get(urls[2]).read() == web.image_bytes("owl-2")
    with pytest.raises(ValueError, match=r"image_hosts needs host 127\.0\.0\.1"):
        FakeWeb("0.0.0.0", image_hosts=2)
