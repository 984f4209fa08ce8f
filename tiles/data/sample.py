"""A built-in, offline demo data set around Santa Fe, New Mexico.

:func:`ensure_sample_catalog` generates (once) and registers three products so the API,
the tile server and the maps work out of the box with no downloads:

``sample:s2``
    Sentinel-2-like surface reflectance: bands blue, green, red, nir (uint16, 0-10000 ->
    0-1, nodata 0), one file per band. Twelve dates through 2023, each with two overlapping
    scenes from neighbouring UTM zones (EPSG:32612 and EPSG:32613), ids such as
    ``sample:s2:20230115_z13``. Some dates are cloudy: cloud pixels are stored as nodata so
    they come out masked; the ``cloud_fraction`` property says how much of the scene.
``sample:dem``
    Elevation in metres (int16, EPSG:32613).
``sample:landcover``
    Land-cover classes (uint8, 1-7, see :data:`LANDCOVER_CLASSES`).

Everything derives from one synthetic landscape drawn on a lon/lat grid with fixed random
seeds: terrain (a Rio Grande valley, the Sangre de Cristo range east of the city), land cover
following elevation and moisture, vegetation cover following a seasonal cycle per class,
winter snow at altitude, and terrain shading from the sun position. Scenes are that
landscape reprojected into each UTM grid with rasterio, so overlapping scenes agree. The
files are tiled, deflate-compressed GeoTIFFs with internal overviews (written by GDAL's COG
driver) and are byte-for-byte reproducible.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject, transform, transform_bounds

from tiles import settings
from tiles.data.store import Catalog
from tiles.errors import NotFoundError, ParameterError

__all__ = ["ensure_sample_catalog", "sample_data_dir", "LANDCOVER_CLASSES", "SAMPLE_PRODUCTS"]

# Bump when the generated data changes, so existing caches are rebuilt.
SAMPLE_VERSION = 1

CENTER_LONLAT = (-105.938, 35.687)
SCENE_PX = 640
SCENE_RES = 60.0
# (zone label, CRS, scene centre lon/lat): neighbouring zones overlapping over the city.
SCENES = (
    ("z12", "EPSG:32612", (-106.12, 35.72)),
    ("z13", "EPSG:32613", (-105.78, 35.70)),
)
# One acquisition per month and the share of the landscape under cloud that day.
DATES = (
    ("2023-01-15", 0.0),
    ("2023-02-14", 0.25),
    ("2023-03-16", 0.05),
    ("2023-04-15", 0.0),
    ("2023-05-15", 0.12),
    ("2023-06-14", 0.0),
    ("2023-07-14", 0.45),
    ("2023-08-13", 0.6),
    ("2023-09-12", 0.15),
    ("2023-10-12", 0.0),
    ("2023-11-11", 0.3),
    ("2023-12-11", 0.08),
)
ACQUISITION_TIME = dt.time(17, 52, 31)  # mid-morning local time, as a sun-synchronous pass

S2_BANDS = ("blue", "green", "red", "nir")
#: Steps :func:`generate` reports: the landscape, elevation and land cover, one warp per
#: scene grid, the clouds, and one per scene and date.
GENERATION_STEPS = 3 + len(SCENES) + len(DATES) * len(SCENES)
LANDCOVER_CLASSES = {
    1: "water",
    2: "developed",
    3: "barren",
    4: "grassland/shrub",
    5: "pinyon-juniper woodland",
    6: "conifer forest",
    7: "cropland/riparian",
}

SAMPLE_PRODUCTS: dict[str, dict[str, Any]] = {
    "sample:s2": {
        "title": "Sample Sentinel-2-like surface reflectance (synthetic, Santa Fe NM)",
        "bands": [
            {
                "name": b,
                "data_range": (0, 10000),
                "physical_range": (0, 1),
                "nodata": 0,
                "description": f"{b} surface reflectance",
            }
            for b in S2_BANDS
        ],
    },
    "sample:dem": {
        "title": "Sample elevation model (synthetic, Santa Fe NM)",
        "bands": [
            {
                "name": "elevation",
                "data_range": (-1000, 9000),
                "physical_range": (-1000, 9000),
                "nodata": -32768,
                "description": "height above sea level, metres",
            }
        ],
    },
    "sample:landcover": {
        "title": "Sample land cover (synthetic, Santa Fe NM)",
        "bands": [
            {
                "name": "class",
                "data_range": (0, 255),
                "physical_range": (0, 255),
                "nodata": 0,
                "description": "; ".join(f"{k} {v}" for k, v in LANDCOVER_CLASSES.items()),
            }
        ],
    },
}

_COG_OPTIONS = {
    "compress": "DEFLATE",
    "predictor": "2",
    "level": "1",
    "num_threads": "ALL_CPUS",
    "blocksize": "256",
    "overview_resampling": "AVERAGE",
    "overviews": "IGNORE_EXISTING",
}

_lock = threading.Lock()


def sample_data_dir(catalog: Catalog) -> Path:
    """Where the sample files of ``catalog`` live: a folder beside the catalog file, or in
    :func:`tiles.settings.cache_folder` for a catalog in PostgreSQL (each machine makes
    its own identical copy at the same path)."""
    folder = settings.cache_folder() if catalog.path is None else catalog.path.parent
    return folder / f"tiles-sample-v{SAMPLE_VERSION}"


def ensure_sample_catalog(catalog: Catalog) -> None:
    """Make sure the sample products exist in ``catalog``, generating the files if needed.

    Cheap when everything is already there (a few queries and a file check). Generation is
    deterministic and takes a few seconds; one process at a time generates (under a lock
    file beside the folder) while the others wait and then find the files ready.
    """
    with _lock:
        if _registered(catalog):
            return
        folder = sample_data_dir(catalog)
        if not (folder / "MANIFEST.json").is_file():
            # tqdm.auto: a bar on a terminal, a widget in Jupyter.
            from tqdm.auto import tqdm

            with tqdm(
                total=GENERATION_STEPS, desc="Building the sample catalog", unit="step"
            ) as bar:
                _build_folder(folder, progress=bar.update)
        _register(catalog, folder)


def _registered(catalog: Catalog) -> bool:
    try:
        recs = catalog.images("sample:s2")
        others = [catalog.images(p) for p in ("sample:dem", "sample:landcover")]
    except NotFoundError:
        return False
    if len(recs) != len(DATES) * len(SCENES) or not all(len(o) == 1 for o in others):
        return False
    for rec in (recs[0], recs[-1], others[0][0]):
        if not all(os.path.isfile(p) for p, _ in rec.files.values()):
            return False
    return True


def _register(catalog: Catalog, folder: Path) -> None:
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    for pid, spec in SAMPLE_PRODUCTS.items():
        try:
            catalog.create_product(pid, spec["bands"], title=spec["title"])
        except ParameterError:
            # An older sample definition: replace it wholesale.
            catalog.remove_product(pid)
            catalog.create_product(pid, spec["bands"], title=spec["title"])
    for entry in manifest["images"]:
        files = {band: str(folder / rel) for band, rel in entry["files"].items()}
        catalog.add_image(
            entry["product"],
            files,
            image_id=entry["id"],
            acquired=entry["acquired"],
            properties=entry["properties"],
        )


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


@dataclass
class _Grid:
    crs: str
    transform: Affine
    shape: tuple[int, int]


def _build_folder(folder: Path, progress: Callable[[], Any] = lambda: None) -> None:
    """Generate the sample files into ``folder``: in a temporary folder beside it, renamed
    into place once complete, so ``folder`` is whole or absent."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    # The system releases the lock when its holder ends, however it ends: whoever holds it
    # is the only builder, and any temporary folder left beside is from an interrupted one.
    with open(folder.parent / f".{folder.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "MANIFEST.json").is_file():
            return  # built by another process while this one waited
        for stale in folder.parent.glob(f".{folder.name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            manifest = generate(tmp, progress)
            (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            os.rename(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _scene_grid(crs: str, lonlat: tuple[float, float]) -> _Grid:
    xs, ys = transform("EPSG:4326", crs, [lonlat[0]], [lonlat[1]])
    half = SCENE_PX * SCENE_RES / 2
    # Snap the origin to whole pixels, as real products do.
    x0 = math.floor((xs[0] - half) / SCENE_RES) * SCENE_RES
    y0 = math.ceil((ys[0] + half) / SCENE_RES) * SCENE_RES
    return _Grid(crs, Affine(SCENE_RES, 0, x0, 0, -SCENE_RES, y0), (SCENE_PX, SCENE_PX))


def _fractal_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Zero-mean, unit-variance noise with a 1/f**beta power spectrum (smooth for large beta)."""
    white = rng.standard_normal(shape)
    spec = np.fft.rfft2(white)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    spec *= f ** (-beta / 2)
    spec[0, 0] = 0.0
    out = np.fft.irfft2(spec, s=shape)
    return ((out - out.mean()) / out.std()).astype(np.float32)


def _warp(src: np.ndarray, src_grid: _Grid, dst: _Grid, resampling: Resampling) -> np.ndarray:
    out = np.zeros(src.shape[:-2] + dst.shape, dtype=src.dtype)
    reproject(
        src,
        out,
        src_transform=src_grid.transform,
        src_crs=src_grid.crs,
        dst_transform=dst.transform,
        dst_crs=dst.crs,
        resampling=resampling,
    )
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Landscape:
    """The synthetic world on a lon/lat grid: terrain, land cover and surface properties."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        w, s, e, n = bounds
        dlon, dlat = 0.0006, 0.0005  # about 55 m either way at this latitude
        width, height = round((e - w) / dlon), round((n - s) / dlat)
        self.grid = _Grid("EPSG:4326", Affine(dlon, 0, w, 0, -dlat, n), (height, width))
        rng = np.random.default_rng(20230101)
        lon = (w + dlon * (np.arange(width) + 0.5))[None, :].astype(np.float32)
        lat = (n - dlat * (np.arange(height) + 0.5))[:, None].astype(np.float32)

        # Terrain: the Rio Grande valley running SW, the city on the rising ground east of
        # it, the Sangre de Cristo range to the north-east, the Jemez foothills to the west.
        river_lon = -106.08 + (lat - 35.99) * 0.63 + 0.012 * np.sin(lat * 70.0)
        d_river = lon - river_lon
        elev = 1650.0 + 560.0 * np.tanh(np.abs(d_river) / 0.25)
        elev = elev + 1300.0 * np.exp(-(((lon + 105.73) / 0.07) ** 2)) * _sigmoid(
            (lat - 35.64) / 0.04
        )
        elev = elev + 700.0 * np.exp(-(((lon + 106.52) / 0.12) ** 2)) * _sigmoid(
            (lat - 35.72) / 0.05
        )
        relief = _fractal_noise(rng, self.grid.shape, 3.2)
        rough = _fractal_noise(rng, self.grid.shape, 2.2)
        elev = elev + 170.0 * relief + (8.0 + 0.03 * np.maximum(elev - 2000.0, 0)) * rough
        self.elev = np.maximum(elev, 1600.0).astype(np.float32)

        moisture = _fractal_noise(rng, self.grid.shape, 2.6)
        self.vigour = (1.0 + 0.22 * _fractal_noise(rng, self.grid.shape, 2.0)).astype(np.float32)
        self.soil = (1.0 + 0.15 * _fractal_noise(rng, self.grid.shape, 2.4)).astype(np.float32)

        lc = np.full(self.grid.shape, 4, dtype=np.uint8)  # grassland/shrub
        wet = moisture * 150.0
        lc[self.elev > 1980.0 - wet] = 5  # woodland above the valley floor
        lc[self.elev > 2550.0 - wet] = 6  # conifers higher up
        lc[(moisture < -1.3) & (self.elev < 2400)] = 3  # dry badlands
        lc[self.elev > 3650.0] = 3  # bare summits
        lc[(np.abs(d_river) < 0.018 + 0.006 * moisture) & (self.elev < 1800.0)] = 7
        km_lon = 111.32 * math.cos(math.radians(CENTER_LONLAT[1]))
        d_city = np.hypot((lon - CENTER_LONLAT[0]) * km_lon, (lat - CENTER_LONLAT[1]) * 110.57)
        lc[d_city < 5.5 + 1.6 * rough] = 2
        lake = ((lon + 106.33) / 0.02) ** 2 + ((lat - 35.625) / 0.011) ** 2 < 1.0
        lc[lake | (np.abs(d_river) < 0.0009)] = 1
        self.landcover = lc

        # Surface slope as the gradient of elevation in metres (x east, y north).
        dx_m = dlon * km_lon * 1000.0
        dy_m = dlat * 110570.0
        gy, gx = np.gradient(self.elev)
        self.dzdx = (gx / dx_m).astype(np.float32)
        self.dzdy = (-gy / dy_m).astype(np.float32)


# Seasonal vegetation cover per class: base + amplitudes of (monsoon, summer, crop, spring).
_COVER = {
    1: (0.0, 0.0, 0.0, 0.0, 0.0),
    2: (0.10, 0.0, 0.12, 0.0, 0.0),
    3: (0.02, 0.04, 0.0, 0.0, 0.0),
    4: (0.12, 0.30, 0.0, 0.0, 0.06),
    5: (0.30, 0.12, 0.06, 0.0, 0.0),
    6: (0.60, 0.0, 0.17, 0.0, 0.0),
    7: (0.08, 0.0, 0.0, 0.72, 0.0),
}
_VEG = np.array([0.030, 0.080, 0.040, 0.42], dtype=np.float32)
_CONIFER = np.array([0.020, 0.050, 0.025, 0.28], dtype=np.float32)
_SOIL = np.array([0.090, 0.130, 0.190, 0.25], dtype=np.float32)
_URBAN = np.array([0.110, 0.120, 0.130, 0.17], dtype=np.float32)
_WATER = np.array([0.050, 0.050, 0.030, 0.015], dtype=np.float32)
_SNOW = np.array([0.880, 0.860, 0.820, 0.70], dtype=np.float32)
_HAZE = np.array([0.28, 0.25, 0.23, 0.20], dtype=np.float32)
# Snow line (m) by month; none from May to October.
_SNOWLINE = {1: 2700, 2: 2800, 3: 3000, 4: 3300, 11: 3100, 12: 2750}


def _seasons(doy: int) -> tuple[float, float, float, float]:
    monsoon = math.exp(-(((doy - 225) / 45) ** 2))
    summer = 0.5 * (1 - math.cos(2 * math.pi * (doy - 20) / 365))
    crop = math.exp(-(((doy - 200) / 40) ** 2))
    spring = math.exp(-(((doy - 130) / 25) ** 2))
    return monsoon, summer, crop, spring


def _sun(doy: int, lat: float) -> tuple[float, float]:
    """Sun zenith and azimuth (radians) at about 10:50 local solar time."""
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365)
    phi = math.radians(lat)
    hour = math.radians(-17.5)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour)
    zen = math.acos(cos_zen)
    az = math.atan2(math.sin(hour), math.cos(hour) * math.sin(phi) - math.tan(decl) * math.cos(phi))
    return zen, az + math.pi  # azimuth clockwise from north


def _scene_date(
    scene: dict[str, np.ndarray],
    date: dt.date,
    clouds: np.ndarray,
    cloud_level: float,
) -> tuple[np.ndarray, float]:
    """Reflectance x 10000 (4, rows, cols) uint16 of one scene on one date, and its cloud share."""
    doy = date.timetuple().tm_yday
    lc = scene["landcover"]
    season = np.array((1.0, *_seasons(doy)), dtype=np.float32)
    lut = np.zeros(256, dtype=np.float32)
    for cls, coeffs in _COVER.items():
        lut[cls] = float(np.dot(season, np.array(coeffs, dtype=np.float32)))
    cover = np.clip(lut[lc] * scene["vigour"], 0.0, 0.95)[None]

    veg = np.where((lc == 6)[None], _CONIFER[:, None, None], _VEG[:, None, None])
    soil = _SOIL[:, None, None] * scene["soil"][None]
    soil = np.where((lc == 3)[None], soil * 1.2, soil)
    soil = np.where((lc == 2)[None], _URBAN[:, None, None] * scene["soil"][None], soil)
    refl = cover * veg + (1.0 - cover) * soil

    snowline = _SNOWLINE.get(date.month)
    if snowline is not None:
        snow = np.clip((scene["elev"] - snowline) / 250.0, 0.0, 1.0)
        snow = np.where(lc == 6, snow * 0.55, snow)[None]  # trees poke through
        refl = snow * _SNOW[:, None, None] + (1.0 - snow) * refl

    zen, az = _sun(doy, CENTER_LONLAT[1])
    sun = (math.sin(zen) * math.sin(az), math.sin(zen) * math.cos(az), math.cos(zen))
    gx, gy = scene["dzdx"], scene["dzdy"]
    cos_i = (-gx * sun[0] - gy * sun[1] + sun[2]) / np.sqrt(gx * gx + gy * gy + 1.0)
    refl = refl * np.clip(cos_i / sun[2], 0.25, 1.6)[None]
    refl = np.where((lc == 1)[None], _WATER[:, None, None], refl)

    # Clouds are nodata; a thin haze brightens their edges and their shadows darken the
    # ground a little to the north-west (the sun is in the south-east).
    cloudy = clouds > cloud_level
    haze = np.clip((clouds - (cloud_level - 0.6)) / 0.6, 0.0, 1.0)[None]
    shadow = np.roll(clouds, (-9, -7), axis=(0, 1)) > cloud_level
    refl = np.where(shadow[None], refl * 0.45, refl)
    refl = refl + haze * 0.6 * (_HAZE[:, None, None] - refl * 0.3)

    dn = np.clip(np.rint(refl * 10000.0), 1, 10000).astype(np.uint16)
    dn[:, cloudy] = 0
    return dn, float(cloudy.mean())


def _write_cog(
    path: Path,
    data: np.ndarray,
    grid: _Grid,
    nodata: float,
    tags: dict[str, str],
    resampling: str = "AVERAGE",
) -> None:
    """Write one band as a tiled, deflated GeoTIFF with internal overviews (a COG)."""
    profile = {
        "driver": "GTiff",
        "width": grid.shape[1],
        "height": grid.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(data, 1)
            ds.update_tags(**tags)
        with mem.open() as ds:
            options = dict(_COG_OPTIONS, overview_resampling=resampling)
            rasterio.shutil.copy(ds, str(path), driver="COG", **options)


def generate(folder: Path, progress: Callable[[], Any] = lambda: None) -> dict[str, Any]:
    """Write the sample files into ``folder`` and return the manifest describing them.

    Parameters
    ----------
    folder : Path
        Where the files go.
    progress : callable, optional
        Called with no argument after each of the :data:`GENERATION_STEPS` steps.

    Returns
    -------
    dict
        The manifest: the version and every image's product, id, date, files, properties.
    """
    folder = Path(folder)
    grids = {label: _scene_grid(crs, ll) for label, crs, ll in SCENES}
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    for g in grids.values():
        h, w = g.shape
        x0, y0 = g.transform @ (0, 0)
        x1, y1 = g.transform @ (w, h)
        b = transform_bounds(g.crs, "EPSG:4326", x0, y1, x1, y0)
        west, south, east, north = (
            min(west, b[0]),
            min(south, b[1]),
            max(east, b[2]),
            max(north, b[3]),
        )
    margin = 0.03
    land = _Landscape((west - margin, south - margin, east + margin, north + margin))
    progress()

    images: list[dict[str, Any]] = []

    # Elevation and land cover on one grid in the eastern zone spanning both scenes.
    dem_grid = _union_grid(grids.values(), "EPSG:32613")
    elev = _warp(land.elev, land.grid, dem_grid, Resampling.bilinear)
    lc = _warp(land.landcover, land.grid, dem_grid, Resampling.nearest)
    (folder / "dem").mkdir(parents=True, exist_ok=True)
    (folder / "landcover").mkdir(parents=True, exist_ok=True)
    _write_cog(
        folder / "dem" / "elevation.tif",
        np.rint(elev).astype(np.int16),
        dem_grid,
        -32768,
        {"TIFFTAG_DATETIME": "2000:02:11 00:00:00", "UNITS": "metre"},
    )
    _write_cog(
        folder / "landcover" / "class.tif",
        lc,
        dem_grid,
        0,
        {"TIFFTAG_DATETIME": "2023:01:01 00:00:00"},
        resampling="MODE",
    )
    images.append(
        {
            "product": "sample:dem",
            "id": "sample:dem:santa_fe",
            "acquired": "2000-02-11T00:00:00+00:00",
            "files": {"elevation": "dem/elevation.tif"},
            "properties": {"source": "synthetic"},
        }
    )
    images.append(
        {
            "product": "sample:landcover",
            "id": "sample:landcover:santa_fe_2023",
            "acquired": "2023-01-01T00:00:00+00:00",
            "files": {"class": "landcover/class.tif"},
            "properties": {
                "source": "synthetic",
                "classes": {str(k): v for k, v in LANDCOVER_CLASSES.items()},
            },
        }
    )
    progress()

    # Static surface properties per scene grid, warped once (one call per kind of
    # resampling, since the coordinate transform is the costly part of a warp).
    fields = ("elev", "vigour", "soil", "dzdx", "dzdy")
    stack = np.stack([getattr(land, f) for f in fields])
    scenes: dict[str, dict[str, np.ndarray]] = {}
    for label, grid in grids.items():
        warped = _warp(stack, land.grid, grid, Resampling.bilinear)
        scenes[label] = dict(zip(fields, warped, strict=True))
        scenes[label]["landcover"] = _warp(land.landcover, land.grid, grid, Resampling.nearest)
        progress()

    # Clouds live on a coarse lon/lat grid so both scenes of a date see the same sky.
    cw, cn = land.grid.transform @ (0, 0)
    ce, cs = land.grid.transform @ (land.grid.shape[1], land.grid.shape[0])
    cres = 0.004
    cloud_grid = _Grid(
        "EPSG:4326",
        Affine(cres, 0, cw, 0, -cres, cn),
        (round((cn - cs) / cres), round((ce - cw) / cres)),
    )
    skies = []
    levels = []
    for i, (_, fraction) in enumerate(DATES):
        sky = _fractal_noise(np.random.default_rng(1000 + i), cloud_grid.shape, 2.8)
        skies.append(sky)
        levels.append(float(np.quantile(sky, 1.0 - fraction)) if fraction > 0 else 1e9)
    sky_stack = np.stack(skies)
    scene_skies = {
        label: _warp(sky_stack, cloud_grid, grid, Resampling.bilinear)
        for label, grid in grids.items()
    }
    progress()
    for i, (iso, _) in enumerate(DATES):
        date = dt.date.fromisoformat(iso)
        stamp = dt.datetime.combine(date, ACQUISITION_TIME, tzinfo=dt.timezone.utc)
        for label in grids:
            grid = grids[label]
            clouds = scene_skies[label][i]
            dn, cloud_fraction = _scene_date(scenes[label], date, clouds, levels[i])
            name = f"{date:%Y%m%d}_{label}"
            sub = folder / "s2" / name
            sub.mkdir(parents=True, exist_ok=True)
            tags = {"TIFFTAG_DATETIME": f"{stamp:%Y:%m:%d %H:%M:%S}"}
            for b, band in enumerate(S2_BANDS):
                _write_cog(sub / f"{band}.tif", dn[b], grid, 0, tags)
            images.append(
                {
                    "product": "sample:s2",
                    "id": f"sample:s2:{name}",
                    "acquired": stamp.isoformat(),
                    "files": {band: f"s2/{name}/{band}.tif" for band in S2_BANDS},
                    "properties": {
                        "cloud_fraction": round(cloud_fraction, 4),
                        "utm_zone": label[1:] + "N",
                        "platform": "synthetic",
                        "source": "synthetic",
                    },
                }
            )
            progress()
    return {"version": SAMPLE_VERSION, "images": images}


def _union_grid(grids: Any, crs: str) -> _Grid:
    xs: list[float] = []
    ys: list[float] = []
    for g in grids:
        h, w = g.shape
        x0, y0 = g.transform @ (0, 0)
        x1, y1 = g.transform @ (w, h)
        b = transform_bounds(g.crs, crs, x0, y1, x1, y0)
        xs += [b[0], b[2]]
        ys += [b[1], b[3]]
    x0 = math.floor(min(xs) / SCENE_RES) * SCENE_RES
    y0 = math.ceil(max(ys) / SCENE_RES) * SCENE_RES
    width = math.ceil((max(xs) - x0) / SCENE_RES)
    height = math.ceil((y0 - min(ys)) / SCENE_RES)
    return _Grid(crs, Affine(SCENE_RES, 0, x0, 0, -SCENE_RES, y0), (height, width))
