"""Measure MessagePack encode and decode time of compute results.

``tiles.compute.msgpack_codec`` (the ``msgpack`` package with numpy/datetime hooks) is timed
on three results made in the same run: one Image (4 bands of 1024x1024 float64, masked), an
ImageCollection (12 images of 4 bands of 256x256 uint16, masked) and a metadata-heavy
result (2000 feature-like dicts with datetimes). Baselines run on the same values in the
same process: ``pickle`` (protocol 5), and the hand-written pure-Python codec this package
used before, loaded from git history when the checkout has it (``--old-codec-commit``).
Times are the best of several repeats, printed with their ratio to the current codec.

Run: .venv/bin/python bench/msgpack_results.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import pickle
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Runnable from a checkout without installing the package.
sys.path.insert(0, str(ROOT))
from tiles.compute import msgpack_codec  # noqa: E402

#: The last commit holding the hand-written codec.
OLD_CODEC = ("c716a67", "tiles/compute/msgpack_codec.py")


def results() -> dict[str, Any]:
    """Result-shaped values (as ``to_plain`` gives them) with random pixels."""
    rng = np.random.default_rng(0)
    image = np.ma.masked_array(
        rng.normal(size=(4, 1024, 1024)), mask=rng.random((4, 1024, 1024)) < 0.1
    )
    stack = np.ma.masked_array(
        rng.integers(0, 10000, size=(12, 4, 256, 256), dtype=np.uint16),
        mask=rng.random((12, 4, 256, 256)) < 0.1,
    )
    start = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
    props = {"date": start, "id": "sample:s2:x", "cloud_fraction": 0.1, "crs": "EPSG:32613"}
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(i), float(-i)]},
            "properties": {"name": f"f{i}", "date": start + dt.timedelta(days=i), "n": i},
        }
        for i in range(2000)
    ]
    return {
        "image 4x1024x1024 f8": {"ndarray": image, "properties": props, "bandinfo": {}},
        "collection 12x4x256x256 u2": {
            "ndarray": stack,
            "properties": [props] * 12,
            "bandinfo": {},
        },
        "2000 features": {"type": "FeatureCollection", "features": features},
    }


def load_old_codec(commit: str) -> types.ModuleType | None:
    """The hand-written codec as it was at ``commit``, or None without git history."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{OLD_CODEC[1]}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_msgpack_codec")
    exec(compile(source, f"{commit}:{OLD_CODEC[1]}", "exec"), module.__dict__)
    return module


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--old-codec-commit", default=OLD_CODEC[0])
    args = parser.parse_args()

    codecs: dict[str, tuple[Callable, Callable]] = {
        "msgpack": (msgpack_codec.packb, msgpack_codec.unpackb),
        "pickle": (lambda v: pickle.dumps(v, protocol=5), pickle.loads),
    }
    old = load_old_codec(args.old_codec_commit)
    if old is not None:
        codecs["hand-written (old)"] = (old.packb, old.unpackb)
    else:
        print(f"(no git history: the old codec at {args.old_codec_commit} is not compared)")

    print(f"{'result':28} {'codec':20} {'encode s':>9} {'decode s':>9} {'enc x':>7} {'dec x':>7}")
    for name, value in results().items():
        base_enc = base_dec = None
        for codec, (pack, unpack) in codecs.items():
            data = pack(value)
            enc = best_of(lambda pack=pack, value=value: pack(value), args.repeats)
            dec = best_of(lambda unpack=unpack, data=data: unpack(data), args.repeats)
            if base_enc is None:
                base_enc, base_dec = enc, dec
            print(
                f"{name:28} {codec:20} {enc:9.4f} {dec:9.4f} "
                f"{enc / base_enc:7.2f} {dec / base_dec:7.2f}"
            )
    print("enc x / dec x: time relative to the msgpack codec in this run (higher is slower)")


if __name__ == "__main__":
    main()
