"""Near-duplicate precision/recall and blur warnings on real photographs (issue 17), ours beside
imagededup PHash/DHash and cleanvision, in one run on one set of files.

The set (tests/validate/real_photos.py): distinct photos = non-overlapping tiles of the real
photographs shipped in scikit-image, scikit-learn and matplotlib; ``--originals`` of them get
one copy per edit (re-encode, resize, PNG, crops of 5/10/15 % of the area, rotations of 2° and
5°, mirror, letterbox, pillarbox, border, watermark, recolour, noise). Truth: each original and
its copies form one group; every pair inside a group is a true pair.

Ours runs as the validation task does: ``check_image(path, "slow")`` per file, then
``find_duplicates`` over all of them with the default thresholds. Peers run in their own venv
(``--peers-python``) at their defaults (imagededup distance 10; cleanvision's exact and near
duplicate issues).

    .venv/bin/python bench/validate_real.py [--originals 40] \\
        [--peers-python /work/bench-peers-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.validate import real_photos as rp
from worker.validate.checks import check_image
from worker.validate.duplicates import find_duplicates
from worker.validate.result import ImageCheck
from worker.validate.thresholds import Thresholds

PNG_MAGIC = b"\x89PNG"
PEER_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
task, folder = sys.argv[1], sys.argv[2]
if task == "cleanvision":
    from cleanvision import Imagelab
    lab = Imagelab(data_path=folder)
    lab.find_issues({"exact_duplicates": {}, "near_duplicates": {}, "blurry": {}})
    sets = lab.info["exact_duplicates"]["sets"] + lab.info["near_duplicates"]["sets"]
    blurry = lab.issues.index[lab.issues["is_blurry_issue"]].tolist()
    out = {"groups": [[str(p) for p in s] for s in sets], "blurry": [str(p) for p in blurry]}
else:
    from imagededup.methods import DHash, PHash
    hasher = {"phash": PHash, "dhash": DHash}[task](verbose=False)
    found = hasher.find_duplicates(image_dir=folder, max_distance_threshold=10)
    out = {"groups": [[k, *v] for k, v in found.items() if v]}
print("RESULT " + json.dumps(out))
"""


def build(folder: Path, originals: int, seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """Write the set; (file name → its group, copy name → edit name)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    photos = rp.distinct_photos()
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(len(photos), min(originals, len(photos)), replace=False).tolist())
    group, edit_of = {}, {}
    for i, (name, image) in enumerate(photos):
        original = f"{i:03d}-original.jpg"
        (folder / original).write_bytes(rp.jpeg(image, 92))
        group[original] = name
        if i not in chosen:
            continue
        for e, (edit, make) in enumerate(rp.EDITS.items()):
            data = make(image, np.random.default_rng(seed * 1000 + i * 100 + e))
            suffix = "png" if data.startswith(PNG_MAGIC) else "jpg"
            copy = f"{i:03d}-copy{e:02d}.{suffix}"
            (folder / copy).write_bytes(data)
            group[copy], edit_of[copy] = name, edit
    return group, edit_of


def _check(path: str) -> tuple[str, ImageCheck]:
    return Path(path).name, check_image(Path(path), "slow")


def our_run(folder: Path, pool) -> tuple[list[list[str]], dict[str, ImageCheck], dict]:
    paths = sorted(str(p) for p in folder.iterdir())
    checks = dict(pool.map(_check, paths, chunksize=8))
    names = list(checks)
    found = find_duplicates(list(enumerate(checks.values())), "slow", Thresholds())
    groups: dict[int, list[str]] = defaultdict(list)
    means: dict[str, int] = defaultdict(int)
    for i, dup in found.items():
        groups[dup.keeper].append(names[i])
        for how in dup.means:
            means[how] += 1
    return [[names[k], *members] for k, members in groups.items()], checks, dict(means)


def _pairs(groups: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for g in groups for pair in combinations(sorted(set(g)), 2)}


def quality(predicted: Sequence[Sequence[str]], group: dict[str, str],
            edit_of: dict[str, str]) -> dict[str, float]:
    by_group: dict[str, list[str]] = defaultdict(list)
    for name, g in group.items():
        by_group[g].append(name)
    want = _pairs([m for m in by_group.values() if len(m) > 1])
    got = {pair for pair in _pairs(predicted) if all(n in group for n in pair)}
    originals = {n for n in group if n.endswith("original.jpg")}
    out = {
        "precision": len(got & want) / len(got) if got else 1.0,
        "recall": len(got & want) / len(want),
        "false pairs": len(got - want),
        "distinct": sum(1 for pair in got - want if pair <= originals),
    }
    for edit in rp.EDITS:
        wanted = {frozenset((copy, f"{copy[:3]}-original.jpg"))
                  for copy, e in edit_of.items() if e == edit}
        out[edit] = len(got & wanted) / len(wanted)
    return out


def run_peer(python: str, task: str, folder: Path) -> dict:
    done = subprocess.run([python, "-c", PEER_SCRIPT, task, str(folder)], capture_output=True,
                          text=True, timeout=3600, check=False)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise RuntimeError(f"{task} failed: {' | '.join(tail)}")


def blur_rates(folder: Path, pool) -> dict[str, float]:
    """Share flagged ``blurry`` among sharp photos (whole and tiles) and their blurred copies."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    kinds: dict[str, str] = {}
    for i, (_, image) in enumerate(rp.originals() + rp.distinct_photos()):
        for kind in ("sharp", "focus", "motion"):
            name = f"{i:03d}-{kind}.jpg"
            (folder / name).write_bytes(rp.jpeg(image if kind == "sharp" else
                                                rp.blur(image, kind), 90))
            kinds[name] = kind
    (folder / "clock_motion.jpg").write_bytes(rp.jpeg(rp.load(rp.REAL_BLUR), 90))
    kinds["clock_motion.jpg"] = "real motion blur (clock)"
    checks = dict(pool.map(_check, sorted(str(p) for p in folder.iterdir()), chunksize=8))
    flagged: dict[str, list[bool]] = defaultdict(list)
    for name, check in checks.items():
        flagged[kinds[name]].append("blurry" in check.issues)
    return {kind: sum(v) / len(v) for kind, v in flagged.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--originals", type=int, default=40)
    parser.add_argument("--seed", type=int, default=17)
    default_root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.sep, "tmp")
    parser.add_argument("--corpus", type=Path, default=default_root / "pixcrawler-real-bench")
    parser.add_argument("--peers-python", default="/work/bench-peers-venv/bin/python")
    args = parser.parse_args()
    if not rp.available():
        sys.exit("the real photographs need the test extra: scripts/setup.sh test")
    folder = args.corpus / "near"
    group, edit_of = build(folder, args.originals, args.seed)
    distinct = sum(1 for n in group if n.endswith("original.jpg"))
    print(f"{distinct} distinct photos, {len(edit_of)} edited copies of {args.originals} "
          f"of them, in {folder}", flush=True)
    with multiprocessing.Pool(2) as pool:
        groups, _, means = our_run(folder, pool)
        results = {"ours (slow)": quality(groups, group, edit_of)}
        rates = blur_rates(args.corpus / "blur", pool)
    print("means of our matches:", means)
    if Path(args.peers_python).exists():
        for name, task in (("imagededup PHash", "phash"), ("imagededup DHash", "dhash"),
                           ("cleanvision", "cleanvision")):
            try:
                out = run_peer(args.peers_python, task, folder)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"{name}: {exc}")
                continue
            results[name] = quality([[Path(p).name for p in g] for g in out["groups"]],
                                    group, edit_of)
    else:
        print(f"peers not measured: {args.peers_python} not found")
    columns = ["precision", "recall", "false pairs", "distinct", *rp.EDITS]
    print("\n" + f"{'tool':18s}" + "".join(f"{c[:11]:>12s}" for c in columns))
    for tool, scores in results.items():
        print(f"{tool:18s}" + "".join(
            f"{scores[c]:12d}" if isinstance(scores[c], int) else f"{scores[c]:12.3f}"
            for c in columns))
    print("(distinct: false pairs between two distinct photos; per-edit columns: recall of "
          "(original, copy) pairs)")
    print("\nblurry warnings, ours:", ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))


if __name__ == "__main__":
    main()
