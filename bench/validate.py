"""Images/s of worker.validate's three levels beside Pillow and two peer tools, and near-duplicate
precision/recall, all on one generated corpus in one run.

Goals (issue 3), each a ratio against a peer measured here:
  fast   ≥ 10 × cleanvision ``Imagelab(dir).find_issues()``
  medium ≥  1 × Pillow full decode (``Image.open(p).load()``) in the same 2-process pool
  slow   ≥  2 × imagededup ``PHash().encode_images(dir)`` + ``find_duplicates(encoding_map=…)``
Ours and Pillow run in a multiprocessing Pool of 2 (the worker's two processes), and the
medium/slow figures include ``find_duplicates`` over the whole set. The peers use their own
default parallelism (all cores, 2 here) from a separate venv (``--peers-python``, never the
project's), run as subprocesses and timed inside them, so their imports are not counted.

Corpus: ``--images`` synthetic photos (textured gradients and shapes, see
tests/validate/corpus.py), 85 % 640×480, a ``--png-share`` of them PNG, the rest JPEG at
quality 70–92, cached under ``--corpus`` (default /dev/shm: RAM, so no tool waits on a disk).

    .venv/bin/python bench/validate.py [--images 2000] [--grouping-images 50000] \
        [--peers-python /work/bench-peers-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

import PIL
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.validate import corpus as c
from worker.validate.checks import check_image
from worker.validate.duplicates import find_duplicates
from worker.validate.hashing import HashSet, NearHashes
from worker.validate.result import ImageCheck
from worker.validate.thresholds import Thresholds

CORPUS_VERSION = 2
OTHER_SIZES = [(320, 240), (800, 600), (1024, 768), (480, 640), (500, 500)]
TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "half size": lambda im: c.encode(c.resized(im, 0.5), "JPEG", quality=85),
    "JPEG q30": lambda im: c.encode(im, "JPEG", quality=30),
    "crop 5% area": lambda im: c.encode(c.cropped(im, 0.025), "JPEG", quality=90),
    "crop 10% area": lambda im: c.encode(c.cropped(im, 0.05), "JPEG", quality=90),
}

PEER_SCRIPT = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")


def cpu():
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


task, folder = sys.argv[1], sys.argv[2]
if task.startswith("cleanvision"):
    from cleanvision import Imagelab
else:
    from imagededup.methods import PHash
started, cpu_started = time.perf_counter(), cpu()
if task == "cleanvision-all":
    lab = Imagelab(data_path=folder)
    lab.find_issues()
    out = {"count": len(lab.issues)}
elif task == "cleanvision-dups":
    lab = Imagelab(data_path=folder)
    lab.find_issues({"exact_duplicates": {}, "near_duplicates": {}})
    sets = lab.info["exact_duplicates"]["sets"] + lab.info["near_duplicates"]["sets"]
    out = {"groups": [[str(p) for p in s] for s in sets]}
else:
    hasher = PHash(verbose=False)
    encodings = hasher.encode_images(image_dir=folder)
    found = hasher.find_duplicates(encoding_map=encodings, max_distance_threshold=10)
    out = {"count": len(encodings), "groups": [[k, *v] for k, v in found.items() if v]}
out["seconds"] = time.perf_counter() - started
out["cpu_seconds"] = cpu() - cpu_started  # its pool's workers are reaped by now
print("RESULT " + json.dumps(out))
"""


# --- corpus -----------------------------------------------------------------------------------

def _make_image(job: tuple[int, str, float, str]) -> None:
    index, folder, png_share, kind = job
    rng = random.Random(index)
    if kind == "throughput":
        size = (640, 480) if rng.random() < 0.85 else rng.choice(OTHER_SIZES)
        image = c.photo(10_000 + index, size)
        if rng.random() < png_share:
            Path(folder, f"{index:05d}.png").write_bytes(c.encode(image, "PNG"))
        else:
            data = c.encode(image, "JPEG", quality=rng.randint(70, 92))
            Path(folder, f"{index:05d}.jpg").write_bytes(data)
        return
    image = c.photo(50_000 + index, (640, 480))
    Path(folder, f"{index:04d}-original.jpg").write_bytes(c.encode(image, "JPEG", quality=90))
    if kind == "with-copies":
        for t, (name, make) in enumerate(TRANSFORMS.items()):
            copy = f"{index:04d}-copy{t}-{name.replace(' ', '_')}.jpg"
            Path(folder, copy).write_bytes(make(image))


def build_corpus(
    root: Path, images: int, png_share: float, originals: int, singles: int, pool
) -> tuple[Path, Path]:
    """(throughput folder, near-duplicate folder), each regenerated only when its recipe
    changed."""
    throughput, neardup = root / "throughput", root / "neardup"
    _build_folder(throughput, {"images": images, "png_share": png_share}, pool,
                  [(i, str(throughput), png_share, "throughput") for i in range(images)])
    _build_folder(neardup, {"originals": originals, "singles": singles}, pool,
                  [(i, str(neardup), 0.0, "with-copies" if i < originals else "single")
                   for i in range(originals + singles)])
    return throughput, neardup


def _build_folder(folder: Path, recipe: dict, pool, jobs: list) -> None:
    recipe = {"version": CORPUS_VERSION, **recipe}
    manifest = folder.with_suffix(".json")
    if manifest.exists() and json.loads(manifest.read_text()) == recipe:
        return
    print(f"building {folder} …", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    pool.map(_make_image, jobs, chunksize=8)
    manifest.write_text(json.dumps(recipe))


# --- timed runs -------------------------------------------------------------------------------

class Run(NamedTuple):
    rate: float
    """images/s, wall clock"""
    cpu_rate: float
    """images/s had the cores done nothing else: images / (CPU seconds / cores). Steadier
    than wall clock on a machine that other jobs share."""
    ms: dict[str, float]
    """per-process CPU ms per image, by file extension"""
    rows: list


def _ours(job: tuple[str, str]) -> tuple[str, float, ImageCheck]:
    path, level = job
    started = time.process_time()
    result = check_image(Path(path), level)  # type: ignore[arg-type]
    return path, time.process_time() - started, result


def _pillow(job: tuple[str, str]) -> tuple[str, float, None]:
    path, how = job
    started = time.process_time()
    with Image.open(path) as im:
        im.verify() if how == "verify" else im.load()
    return path, time.process_time() - started, None


def timed_pool_run(
    pool, cores: int, worker, paths: Sequence[Path], arg: str, level: str | None
) -> Run:
    """One pass over ``paths`` in the pool, plus find_duplicates for a medium/slow level."""
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = pool.map(worker, [(str(p), arg) for p in paths], chunksize=16)
    if level in ("medium", "slow"):
        find_duplicates([(i, r) for i, (_, _, r) in enumerate(rows)], level, Thresholds())
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started + sum(seconds for _, seconds, _ in rows)
    per_format: dict[str, list[float]] = defaultdict(list)
    for path, seconds, _ in rows:
        per_format[Path(path).suffix[1:]].append(seconds)
    ms = {fmt: 1000 * statistics.fmean(values) for fmt, values in per_format.items()}
    return Run(len(paths) / elapsed, len(paths) * cores / cpu_seconds, ms, rows)


def interleaved_runs(
    pool, cores: int, paths: Sequence[Path], folder: Path, repeats: int, peers_python: str | None
) -> dict[str, Run]:
    """Every contender runs once per round and rounds repeat; the median round of each is kept.
    On a shared machine, load that comes and goes then hits every contender alike."""
    plan = {f"ours {level}": (_ours, level, level) for level in ("fast", "medium", "slow")}
    plan |= {f"Pillow {how}": (_pillow, how, None) for how in ("verify", "decode")}
    peers = {"cleanvision find_issues": "cleanvision-all", "imagededup PHash": "imagededup"}
    results: dict[str, list[Run]] = defaultdict(list)
    for round_number in range(1, repeats + 1):
        print(f"round {round_number}/{repeats} …", flush=True)
        for name, (worker, arg, level) in plan.items():
            results[name].append(timed_pool_run(pool, cores, worker, paths, arg, level))
        for name, task in peers.items() if peers_python else ():
            try:
                timed = run_peer(peers_python, task, folder)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"  {name}: {exc}")
                continue
            cpu_rate = len(paths) * cores / timed["cpu_seconds"]
            results[name].append(Run(len(paths) / timed["seconds"], cpu_rate, {}, []))
    return {name: sorted(runs, key=lambda run: run.rate)[len(runs) // 2]
            for name, runs in results.items()}


def run_peer(python: str, task: str, folder: Path) -> dict:
    done = subprocess.run([python, "-c", PEER_SCRIPT, task, str(folder)], capture_output=True,
                          text=True, timeout=3600, check=False)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise RuntimeError(f"{task} failed: {' | '.join(tail)}")


def peers_available(python: str) -> str | None:
    """None when both peers import in ``python``, else why not."""
    if not Path(python).exists():
        return f"{python} not found"
    probe = subprocess.run([python, "-c", "import cleanvision, imagededup.methods"],
                           capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1]


# --- near-duplicate quality -------------------------------------------------------------------

def _pairs(groups: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for group in groups for pair in combinations(set(group), 2)}


def truth_groups(folder: Path) -> list[list[str]]:
    by_original: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.iterdir()):
        by_original[path.name.split("-")[0]].append(path.name)
    return [names for names in by_original.values() if len(names) > 1]


def quality(predicted: Sequence[Sequence[str]], truth: list[list[str]]) -> dict[str, float]:
    got, want = _pairs(predicted), _pairs(truth)
    out = {"precision": len(got & want) / len(got) if got else 1.0,
           "recall": len(got & want) / len(want)}
    for t, name in enumerate(TRANSFORMS):
        marker = f"-copy{t}-"
        wanted = {pair for pair in want
                  if any(marker in n for n in pair) and any("original" in n for n in pair)}
        out[name] = len(got & wanted) / len(wanted)
    return out


def our_groups(pool, folder: Path) -> list[list[str]]:
    paths = sorted(folder.iterdir())
    rows = pool.map(_ours, [(str(p), "slow") for p in paths], chunksize=16)
    found = find_duplicates([(i, r) for i, (_, _, r) in enumerate(rows)], "slow", Thresholds())
    groups: dict[int, list[str]] = defaultdict(list)
    for i, dup in found.items():
        groups[dup.keeper].append(paths[i].name)
    return [[paths[k].name, *members] for k, members in groups.items()]


# --- grouping at job scale ---------------------------------------------------------------------

def grouping_seconds(images: int, seed: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds of ``find_duplicates`` at slow over ``images`` rows with random
    hashes in every view (a tenth with borders trimmed): the pairwise loose pass is the part
    that grows with the square of a job's size."""
    rng = random.Random(seed)
    rows = []
    for i in range(images):
        views = [HashSet(rng.getrandbits(64), rng.getrandbits(64), rng.getrandbits(64))
                 for _ in range(5)]
        framed = i % 10 == 0
        hashes = NearHashes(views[0], views[1], views[3] if framed else None,
                            views[4] if framed else None, views[2])
        rows.append((i, ImageCheck(metrics={"near_hashes": hashes.encode()}, area=640 * 480,
                                   phash=views[0].p)))
    started, cpu_started = time.perf_counter(), time.process_time()
    find_duplicates(rows, "slow", Thresholds())
    return time.perf_counter() - started, time.process_time() - cpu_started


# --- report -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--png-share", type=float, default=0.3)
    parser.add_argument("--originals", type=int, default=150,
                        help="near-duplicate set: originals with 4 copies each")
    parser.add_argument("--singles", type=int, default=600,
                        help="near-duplicate set: unrelated images, to catch false groups")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of every contender; each one's median round is kept")
    default_root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.sep, "tmp")
    parser.add_argument("--corpus", type=Path, default=default_root / "pixcrawler-validate-bench")
    parser.add_argument("--peers-python", default="/work/bench-peers-venv/bin/python")
    parser.add_argument("--grouping-images", type=int, default=0,
                        help="also time find_duplicates over this many rows (e.g. 50000)")
    args = parser.parse_args()

    with multiprocessing.Pool(args.processes) as pool:
        throughput, neardup = build_corpus(args.corpus, args.images, args.png_share,
                                           args.originals, args.singles, pool)
        paths = sorted(throughput.iterdir())
        pngs = sum(p.suffix == ".png" for p in paths)
        print(f"{len(paths)} images ({len(paths) - pngs} JPEG, {pngs} PNG, 85 % 640×480) "
              f"in {throughput}; {args.processes} processes; Pillow {PIL.__version__}; "
              f"{os.cpu_count()} CPUs\n", flush=True)

        peer_error = peers_available(args.peers_python)
        if peer_error:
            print(f"peers not run: {peer_error} (install cleanvision and imagededup in a "
                  "separate venv and pass --peers-python)")
        peers_python = None if peer_error else args.peers_python
        timed_pool_run(pool, 1, _ours, paths[:50], "medium", None)  # warm the workers
        runs = interleaved_runs(pool, args.processes, paths, throughput, args.repeats,
                                peers_python)
        ours_near = quality(our_groups(pool, neardup), truth_groups(neardup))

    peer_near: dict[str, dict[str, float]] = {}
    if peers_python:
        truth = truth_groups(neardup)
        for name, task in (("cleanvision", "cleanvision-dups"), ("imagededup", "imagededup")):
            try:
                groups = run_peer(peers_python, task, neardup)["groups"]
                peer_near[name] = quality([[Path(p).name for p in g] for g in groups], truth)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"  {name} near-duplicates: {exc}")

    print_report(runs, ours_near, peer_near, args)
    if args.grouping_images:
        wall, cpu = grouping_seconds(args.grouping_images)
        print(f"\nfind_duplicates at slow over {args.grouping_images} rows (random hashes): "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU")


def print_report(runs: dict[str, Run], ours_near, peer_near, args) -> None:
    goals = {
        "ours fast": ("cleanvision find_issues", 10.0),
        "ours medium": ("Pillow decode", 1.0),
        "ours slow": ("imagededup PHash", 2.0),
    }
    print(f"\n{'run':24s} {'images/s':>9s} {'CPU-bound':>10s}   {'goal':33s} "
          f"{'ratio':>7s} {'CPU-bound':>10s}  met")
    for name, run in runs.items():
        line = f"{name:24s} {run.rate:9.0f} {run.cpu_rate:10.0f}"
        if name in goals:
            peer, factor = goals[name]
            line += f"   ≥ {factor:g}× {peer:28s}"
            if peer in runs:
                ratio, cpu_ratio = run.rate / runs[peer].rate, run.cpu_rate / runs[peer].cpu_rate
                verdict = "yes" if min(ratio, cpu_ratio) >= factor else (
                    "NO" if max(ratio, cpu_ratio) < factor else "split")
                line += f" {ratio:6.2f}× {cpu_ratio:9.2f}×  {verdict}"
            else:
                line += "     n/a (peer not measured)"
        print(line)
    print("(images/s: wall clock of the median round; CPU-bound: images / (CPU seconds / "
          f"{args.processes}), which other jobs on the machine disturb far less)")

    print("\nper-process CPU ms per image, by format (median round):")
    formats = sorted({fmt for run in runs.values() for fmt in run.ms})
    print(f"{'run':24s} " + " ".join(f"{fmt:>8s}" for fmt in formats))
    for name, run in runs.items():
        if run.ms:  # peers are timed as a whole
            print(f"{name:24s} " + " ".join(f"{run.ms.get(fmt, 0):8.2f}" for fmt in formats))
    decode, medium = runs["Pillow decode"].ms, runs["ours medium"].ms
    print(f"{'medium speed vs decode':24s} "
          + " ".join(f"{decode[fmt] / medium[fmt]:7.2f}×" for fmt in formats))

    print(f"\nnear duplicates: {args.originals} originals × {len(TRANSFORMS)} copies among "
          f"{args.singles} unrelated images; precision/recall over pairs in one group")
    columns = ["precision", "recall", *TRANSFORMS]
    print(f"{'tool':14s} " + " ".join(f"{col:>13s}" for col in columns))
    for tool, scores in {"ours (slow)": ours_near, **peer_near}.items():
        print(f"{tool:14s} " + " ".join(f"{scores[col]:13.3f}" for col in columns))


if __name__ == "__main__":
    main()
