"""Export through our client against the real server: a crawled job's zip streamed to a file,
a folder written by an embedded server, and the refusals as our error classes."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from pixcrawler_desktop.client import ApiError, ForbiddenError

pytestmark = pytest.mark.slow


def test_download_and_folder_export(live, connect, tmp_path):
    client, _ = connect(live)
    job = client.create_job("export owls", ["client owl"], ["bing"], 3)
    client.start(job.id)
    assert list(client.events(job.id, timeout=30))[-1].status == "completed"
    images = client.images(job.id).items

    sizes: list[int] = []
    path = client.download_export(job.id, tmp_path, progress=sizes.append)
    assert path == tmp_path / f"export-owls-{job.id}.zip"
    assert sizes and sizes[-1] == path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        stored = {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("client-owl/")
        }
    assert sorted(hashlib.sha256(data).hexdigest() for data in stored.values()) == sorted(
        image.sha256 for image in images
    )

    with pytest.raises(ApiError) as unvalidated:
        client.download_export(job.id, tmp_path / "valid.zip", include="valid")
    assert unvalidated.value.status == 400
    with pytest.raises(ApiError) as uneven:
        client.download_export(job.id, tmp_path / "split.zip", split="train:0.7,val:0.7")
    assert uneven.value.status == 422 and "add up to 1" in uneven.value.detail
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]

    folder = tmp_path / "owls"
    if live.kind == "postgres":  # server mode: the server's disk is not the user's
        with pytest.raises(ForbiddenError):
            client.export_to_folder(job.id, folder)
        assert not folder.exists()
        return
    result = client.export_to_folder(job.id, folder, split="train:0.5,val:0.5")
    assert (result.path, result.images, result.missing) == (str(folder), 3, 0)
    assert len([p for p in folder.glob("*/client-owl/*") if p.is_file()]) == 3
    with pytest.raises(ApiError) as taken:
        client.export_to_folder(job.id, folder)
    assert taken.value.status == 409
