"""Empty results that are probably mistakes are warned about; long computations show progress."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import warnings
from pathlib import Path

import pytest

import tiles as wf
from tiles.data import catalog
from tiles.errors import EmptyResultWarning

SANTA_FE = wf.scenes.AOI(bounds=(-106.0, 35.6, -105.9, 35.7), resolution=600, crs="EPSG:32613")


def s2(start, end):
    return wf.ImageCollection.from_id("sample:s2", start, end).pick_bands("red")


def test_reversed_dates_are_named():
    with pytest.warns(EmptyResultWarning, match="end date 2023-01-01 is not after the start"):
        result = s2("2024-01-01", "2023-01-01").compute(SANTA_FE)
    assert len(result) == 0


def test_a_date_range_without_images_names_the_products_dates():
    every = catalog.search("sample:s2")
    first, last = every[0].acquired.date(), every[-1].acquired.date()
    with pytest.warns(EmptyResultWarning, match=f"images from {first} to {last}"):
        result = s2("2019-01-01", "2019-06-01").compute(SANTA_FE)
    assert len(result) == 0


def test_a_geocontext_outside_every_image_says_where_they_are():
    far = wf.scenes.AOI(bounds=(10.0, 50.0, 10.1, 50.1), resolution=600, crs="EPSG:32632")
    with pytest.warns(EmptyResultWarning, match="outside every image") as caught:
        result = s2("2023-01-01", "2024-01-01").compute(far)
    assert len(result) == 0
    covers = str(caught[0].message).split("cover lon/lat ")[1]
    west, south, east, north = (float(v) for v in covers.split(", "))
    assert west < -105.9 < east and south < 35.6 < north
    assert caught[0].filename == __file__  # it points at the call that computes


def test_no_warning_when_there_is_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmptyResultWarning)
        assert len(s2("2023-01-01", "2024-01-01").compute(SANTA_FE)) > 0


SCRIPT = """
import tiles as wf
from tiles.compute import jobs
jobs.PROGRESS_DELAY = 0.0  # show the bar at once, however fast this machine is
ctx = wf.scenes.AOI(bounds=(-106.1, 35.5, -105.8, 35.8), resolution=120, crs="EPSG:32613")
s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01").pick_bands("red")
print(s2.median(axis="images").compute(ctx).ndarray.shape)
"""


def run_script(stderr_tty: bool) -> tuple[str, str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    if not stderr_tty:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
        )
        return done.stdout, done.stderr
    main, child = pty.openpty()
    # A terminal 100 columns wide (a new pseudo-terminal has none, and tqdm draws nothing).
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, stderr=child, text=True
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data.decode("utf-8", "replace"))
    out = proc.stdout.read()
    proc.wait(timeout=600)
    os.close(main)
    return out, "".join(chunks)


def test_a_terminal_shows_progress_and_a_pipe_does_not():
    out, err = run_script(stderr_tty=True)
    assert out.strip().startswith("(1, ")
    assert "job " in err and "100%" in err  # tqdm's bar, filled at the end
    out, err = run_script(stderr_tty=False)
    assert out.strip().startswith("(1, ") and "job " not in err
