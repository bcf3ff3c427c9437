"""Export calls against a stand-in server at the httpx transport: the zip streamed to a file
that appears whole or not at all, the folder export's body, the server's refusals as our
error classes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pixcrawler_desktop.client import (
    ApiError,
    ConnectionLost,
    Engine,
    ExportResult,
    Filters,
    ForbiddenError,
    MemoryTokenStore,
    PixCrawlerClient,
    filters_not_applied,
)
from pixcrawler_desktop.client.downloads import safe_file_name

Handler = Callable[[httpx.Request], httpx.Response]


def make_zip(files: int = 40) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(files):
            archive.writestr(f"cat/bing-{n:04d}.jpg", bytes([n % 256]) * 20_000)
        archive.writestr("manifest.csv", "file\n")
    return buffer.getvalue()


ZIP = make_zip()


def client_for(handler: Handler) -> PixCrawlerClient:
    client = PixCrawlerClient(
        "http://pix.test", token_store=MemoryTokenStore(), transport=httpx.MockTransport(handler)
    )
    client.access_token = "token"
    return client


def zip_answer(request: httpx.Request, *, name: str = "pets-7.zip") -> httpx.Response:
    return httpx.Response(
        200,
        content=ZIP,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{name}"; '
            "filename*=UTF-8''p%C3%A9ts-7.zip",
        },
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_streams_to_the_file_with_progress(tmp_path):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return zip_answer(request)

    progress: list[int] = []
    with client_for(handler) as client:
        dest = tmp_path / "pets.zip"
        result = client.download_export(
            7, dest, include="valid", split="train:0.8,val:0.2", export_format="huggingface",
            progress=progress.append,
        )
    assert result == dest and dest.read_bytes() == ZIP
    assert leftovers(tmp_path) == ["pets.zip"]
    request = seen[0]
    assert request.url.path == "/api/v1/jobs/7/export"
    assert dict(request.url.params) == {"include": "valid", "format": "huggingface",
                                        "split": "train:0.8,val:0.2"}
    assert request.headers["Authorization"] == "Bearer token"
    assert progress == sorted(progress) and progress[-1] == len(ZIP)


def test_download_into_a_folder_takes_the_servers_name(tmp_path):
    with client_for(zip_answer) as client:
        result = client.download_export(7, tmp_path)
    assert result == tmp_path / "péts-7.zip" and result.read_bytes() == ZIP
    assert leftovers(tmp_path) == ["péts-7.zip"]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("pets-7.zip", "pets-7.zip"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "job-7.zip"),
        ("a\x00b.zip", "job-7.zip"),
        ("C:evil.zip", "job-7.zip"),
        ("", "job-7.zip"),
    ],
)
def test_suggested_names_cannot_leave_the_folder(name, safe):
    assert safe_file_name(name, "job-7.zip") == safe


def test_a_refusal_raises_the_servers_detail_and_writes_nothing(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"detail": "Job 7 has not been validated"})

    dest = tmp_path / "pets.zip"
    with client_for(handler) as client, pytest.raises(ApiError) as refused:
        client.download_export(7, dest, include="valid")
    assert refused.value.status == 400
    assert refused.value.detail == "Job 7 has not been validated"
    assert leftovers(tmp_path) == []


class Cut(httpx.SyncByteStream):
    """Half the archive, then the connection drops."""

    def __iter__(self) -> Iterator[bytes]:
        yield ZIP[: len(ZIP) // 2]
        raise httpx.ReadError("connection reset by peer")


def test_a_dropped_connection_leaves_no_file_and_keeps_the_old_one(tmp_path):
    dest = tmp_path / "pets.zip"
    dest.write_bytes(b"an earlier export")
    with (
        client_for(lambda r: httpx.Response(200, stream=Cut())) as client,
        pytest.raises(ConnectionLost) as lost,
    ):
        client.download_export(7, dest)
    assert "Cannot reach the server at http://pix.test" in lost.value.detail
    assert dest.read_bytes() == b"an earlier export"
    assert leftovers(tmp_path) == ["pets.zip"]


def test_a_body_that_is_not_a_zip_is_not_kept(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ZIP[:-30])  # the central directory is cut off

    with client_for(handler) as client, pytest.raises(ApiError) as broken:
        client.download_export(7, tmp_path / "pets.zip")
    assert "not a complete zip file" in broken.value.detail
    assert leftovers(tmp_path) == []


def test_progress_raising_cancels_and_cleans_up(tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first(received: int) -> None:
        raise Stop

    with client_for(zip_answer) as client, pytest.raises(Stop):
        client.download_export(7, tmp_path / "pets.zip", progress=stop_after_first)
    assert leftovers(tmp_path) == []


def test_an_expired_token_is_renewed_for_the_download(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/refresh"):
            return httpx.Response(
                200, json={"access_token": "fresh", "expires_in": 60, "refresh_token": "r2"}
            )
        if request.headers.get("Authorization") != "Bearer fresh":
            return httpx.Response(401, json={"detail": "Token expired"})
        return zip_answer(request)

    with client_for(handler) as client:
        client.refresh_token = "r1"
        assert client.download_export(7, tmp_path / "a.zip").read_bytes() == ZIP
        assert client.access_token == "fresh"


def test_folder_export_posts_the_options_and_reads_the_result():
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(
            200, json={"path": "/data/pets", "images": 40, "bytes": 800_123, "missing": 1}
        )

    with client_for(handler) as client:
        result = client.export_to_folder(7, Path("/data/pets"), split="train:0.9,val:0.1")
        client.export_to_folder(7, "/data/other", include="valid")
    assert result == ExportResult(path="/data/pets", images=40, bytes=800_123, missing=1)
    assert bodies == [
        {"path": "/data/pets", "include": "all", "format": "imagefolder",
         "split": "train:0.9,val:0.1"},
        {"path": "/data/other", "include": "valid", "format": "imagefolder"},
    ]


@pytest.mark.parametrize(
    ("status", "detail", "cls"),
    [
        (409, "Folder /data/pets is not empty", ApiError),
        (403, "Folder export is only available in embedded mode", ForbiddenError),
    ],
)
def test_folder_export_refusals(status, detail, cls):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": detail})

    with client_for(handler) as client, pytest.raises(cls) as refused:
        client.export_to_folder(7, "/data/pets")
    assert (refused.value.status, refused.value.detail) == (status, detail)


def test_filters_an_engine_cannot_apply():
    engine = Engine(
        name="bing",
        available=True,
        filters=["license", "safe_search"],
        filter_values={"safe_search": [True], "license": ["commercial"]},
    )
    assert filters_not_applied(engine, Filters()) == []
    assert filters_not_applied(engine, Filters(safe_search=False, min_width=800)) == []
    wanted = Filters(license="public_domain", image_type="photo", color="any")
    assert filters_not_applied(engine, wanted) == ["license", "image_type"]
    assert filters_not_applied(Engine(name="x", available=True), Filters()) == ["safe_search"]
