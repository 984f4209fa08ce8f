"""The catalog against real imagery: products, images, geometry read from files, search."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.transform
import shapely.geometry
from rasterio.warp import transform_bounds

from tests.support import NAIP, NAIP_BANDS, S2
from tiles.data import catalog as module
from tiles.data.catalog import Catalog
from tiles.data.catalog_cli import main as cli_main
from tiles.data.catalog_cli import parse_band_spec
from tiles.errors import DataError, NotFoundError, ParameterError

S2_BANDS = [
    {"name": n, "data_range": (0, 10000), "physical_range": (0, 1), "nodata": 0}
    for n in ("blue", "red", "nir", "coastal")
]
UTC = dt.timezone.utc


@pytest.fixture()
def cat(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path / "cat.sqlite")


@pytest.fixture()
def naip_cat(cat: Catalog, shared_data: Path) -> Catalog:
    cat.create_product("naip", NAIP_BANDS, title="NAIP")
    for f in sorted((shared_data / NAIP).glob("*.tif")):
        cat.add_image("naip", f)
    return cat


def s2_files(shared_data: Path) -> dict[str, Path]:
    d = shared_data / S2
    return {
        "blue": d / "B02.tif",
        "red": d / "B04.tif",
        "nir": d / "B08.tif",
        "coastal": d / "B01.tif",
    }


def test_product_definition_and_bandinfo(cat: Catalog) -> None:
    p = cat.create_product("s2", S2_BANDS, title="Sentinel-2")
    assert cat.product("s2") == p
    info = p.bandinfo()
    assert list(info) == ["blue", "red", "nir", "coastal"]
    assert info["red"] == {
        "id": "s2:red",
        "name": "red",
        "data_range": (0.0, 10000.0),
        "physical_range": (0.0, 1.0),
        "nodata": 0.0,
    }
    naip = cat.create_product("naip", NAIP_BANDS)
    assert "physical_range" not in naip.bandinfo()["red"]
    # Identical re-creation is a no-op; a different definition is refused.
    assert cat.create_product("s2", S2_BANDS, title="Sentinel-2") == p
    with pytest.raises(ParameterError, match="different definition"):
        cat.create_product("s2", S2_BANDS[:2])
    assert [x.id for x in cat.products()] == ["naip", "s2"]
    with pytest.raises(NotFoundError, match="nope"):
        cat.product("nope")
    with pytest.raises(NotFoundError, match="'swir'.*'s2'"):
        p.band("swir")


def test_multiband_images_read_geometry_from_files(naip_cat: Catalog, shared_data: Path) -> None:
    recs = naip_cat.images("naip")
    assert len(recs) == 10
    assert [r.acquired for r in recs] == sorted(r.acquired for r in recs)
    rec = naip_cat.image("naip:m_4709963_se_14_1_20140720")
    path = shared_data / NAIP / "m_4709963_se_14_1_20140720.tif"
    assert rec.acquired == dt.datetime(2014, 7, 20, tzinfo=UTC)
    assert rec.files == {
        b: (str(path.resolve()), i + 1) for i, b in enumerate(["red", "green", "blue", "nir"])
    }
    with rasterio.open(path) as src:
        assert rec.crs == "EPSG:26914" == f"EPSG:{src.crs.to_epsg()}"
        assert rec.geotrans == src.transform.to_gdal()
        assert rec.shape == (src.height, src.width)
        expected = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
    assert rec.bounds_lonlat == pytest.approx(expected, abs=1e-6)
    fp = shapely.geometry.shape(rec.footprint)
    assert fp.geom_type == "Polygon" and len(fp.exterior.coords) > 40  # densified
    props = rec.properties_dict()
    assert props["id"] == rec.id and props["product"] == "naip"
    assert props["date"] == rec.acquired and props["crs"] == "EPSG:26914"
    assert props["geotrans"] == rec.geotrans and all(
        isinstance(v, float) for v in props["geotrans"]
    )


def test_band_count_must_match_product(cat: Catalog, shared_data: Path) -> None:
    cat.create_product("three", NAIP_BANDS[:3])
    with pytest.raises(ParameterError, match="4 band"):
        cat.add_image("three", shared_data / NAIP / "m_4709963_se_14_1_20090818.tif")


def test_per_band_files(cat: Catalog, shared_data: Path) -> None:
    cat.create_product("s2", S2_BANDS)
    files = s2_files(shared_data)
    rec = cat.add_image("s2", files, properties={"cloud_fraction": 0.04})
    # Id from the folder; date from the folder name; grid from the finest (10x) file.
    assert rec.id == "s2:sentinel2_l2a_29RKH_20200219"
    assert rec.acquired == dt.datetime(2020, 2, 19, tzinfo=UTC)
    with rasterio.open(files["red"]) as src:
        assert rec.geotrans == src.transform.to_gdal() and rec.shape == (1098, 1098)
    assert rec.files["coastal"] == (str(files["coastal"].resolve()), 1)
    assert rec.properties_dict()["cloud_fraction"] == 0.04
    with pytest.raises(ParameterError, match="coastal"):
        cat.add_image("s2", {k: v for k, v in files.items() if k != "coastal"})
    with pytest.raises(NotFoundError, match="'swir'"):
        cat.add_image("s2", {**files, "swir": files["red"]})


def test_acquired_and_ids(cat: Catalog, shared_data: Path, tmp_path: Path) -> None:
    cat.create_product("naip", NAIP_BANDS)
    src = shared_data / NAIP / "m_4709963_se_14_1_20090818.tif"
    rec = cat.add_image("naip", src, image_id="first", acquired="2009-08-18T17:05:00-05:00")
    assert rec.id == "naip:first"
    assert rec.acquired == dt.datetime(2009, 8, 18, 22, 5, tzinfo=UTC)
    # No date anywhere: an error asking for one.
    undated = tmp_path / "scene.tif"
    undated.write_bytes(src.read_bytes())
    with pytest.raises(ParameterError, match="acquired"):
        cat.add_image("naip", undated)
    # A TIFFTAG_DATETIME is used when present.
    with rasterio.open(undated, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
        ds.update_tags(TIFFTAG_DATETIME="2011:05:06 07:08:09")
    assert cat.add_image("naip", undated).acquired == dt.datetime(2011, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_missing_file_and_unknown_product(cat: Catalog, tmp_path: Path) -> None:
    cat.create_product("naip", NAIP_BANDS)
    with pytest.raises(DataError, match="nothere.tif"):
        cat.add_image("naip", tmp_path / "nothere.tif")
    with pytest.raises(NotFoundError, match="'nope'"):
        cat.add_image("nope", tmp_path / "nothere.tif")
    with pytest.raises(NotFoundError):
        cat.image("naip:nothing")
    with pytest.raises(NotFoundError):
        cat.remove_image("naip:nothing")


def test_search_by_date_and_footprint(naip_cat: Catalog) -> None:
    got = naip_cat.search("naip", start="2012-07-31", end=dt.date(2016, 8, 16))
    # start inclusive, end exclusive, sorted by date
    assert [r.id.rsplit("_", 1)[1] for r in got] == ["20120731", "20140720", "20150926"]
    assert len(naip_cat.search("naip", bbox_lonlat=(-99.2, 47.0, -99.1, 47.05))) == 10
    assert naip_cat.search("naip", bbox_lonlat=(-98.0, 47.0, -97.0, 47.05)) == []
    # A box touching only the corner of the footprint.
    rec = naip_cat.images("naip")[0]
    w, s, e, n = rec.bounds_lonlat
    assert len(naip_cat.search("naip", bbox_lonlat=(e - 1e-4, n - 1e-4, e + 1, n + 1))) >= 1
    assert len(naip_cat.search("naip", limit=3)) == 3


def test_antimeridian_footprint(cat: Catalog, shared_data: Path) -> None:
    cat.create_product("edge", [{"name": "b", "data_range": (0, 65535)}])
    rec = cat.add_image(
        "edge",
        shared_data / "edge_cases/landsat8_b_utm60_dateline_cog_dateline.tif",
        acquired="2020-01-01",
    )
    w, s, e, n = rec.bounds_lonlat
    assert w > e  # crosses the antimeridian; a short box, not one spanning the globe
    assert w > 170 and e < -170
    assert len(cat.search("edge", bbox_lonlat=(179.5, s, -179.5, n))) == 1
    assert len(cat.search("edge", bbox_lonlat=(-179.99, s, -179.9, n))) == 1
    assert len(cat.search("edge", bbox_lonlat=(0, s, 10, n))) == 0


def test_remove_image_and_product(naip_cat: Catalog) -> None:
    naip_cat.remove_image("naip:m_4709963_se_14_1_20090818")
    assert len(naip_cat.images("naip")) == 9
    naip_cat.remove_product("naip")
    with pytest.raises(NotFoundError):
        naip_cat.images("naip")
    assert naip_cat.products() == []


def test_threads_share_a_catalog(naip_cat: Catalog) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                assert len(naip_cat.search("naip")) == 10
                naip_cat.create_product(f"p{i}", NAIP_BANDS)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(naip_cat.products()) == 7


def test_default_catalog_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILES_CATALOG", str(tmp_path / "other.sqlite"))
    assert module.default_catalog_path() == tmp_path / "other.sqlite"
    monkeypatch.delenv("TILES_CATALOG")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert module.default_catalog_path() == tmp_path / "xdg" / "tiles" / "catalog.sqlite"


def test_module_functions_use_default_catalog(shared_data: Path) -> None:
    module.create_product("test:naip", NAIP_BANDS)
    rec = module.add_image("test:naip", shared_data / NAIP / "m_4709963_se_14_1_20100629.tif")
    assert module.image(rec.id) == rec
    assert module.images("test:naip") == [rec]
    assert module.search("test:naip", start="2010-01-01") == [rec]
    assert "test:naip" in [p.id for p in module.products()]
    assert module.product("test:naip").band_names == ["red", "green", "blue", "nir"]
    module.remove_image(rec.id)
    module.remove_product("test:naip")
    with pytest.raises(NotFoundError):
        module.product("test:naip")


def test_band_spec_parsing() -> None:
    assert parse_band_spec("red:0:255") == {"name": "red", "data_range": (0.0, 255.0)}
    assert parse_band_spec("red:0:255:0")["nodata"] == 0.0
    b = parse_band_spec("red:0:10000:0:1")
    assert b["physical_range"] == (0.0, 1.0) and "nodata" not in b
    b = parse_band_spec("red:0:10000:0:1:0")
    assert b["physical_range"] == (0.0, 1.0) and b["nodata"] == 0.0
    b = parse_band_spec("red:0:255:::7")
    assert "physical_range" not in b and b["nodata"] == 7.0


def test_cli(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = ["--catalog", str(tmp_path / "cli.sqlite")]
    bands = [a for n in ("blue", "red", "nir", "coastal") for a in ("--band", f"{n}:0:10000:0:1:0")]
    assert cli_main(c + ["create-product", "s2", *bands]) == 0
    files = [a for k, v in s2_files(shared_data).items() for a in ("--band-file", f"{k}={v}")]
    assert cli_main(c + ["add-image", "s2", *files, "--id", "one"]) == 0
    assert cli_main(c + ["add-image", "s2", *files, "--id", "two", "--acquired", "2020-03-01"]) == 0
    capsys.readouterr()
    assert cli_main(c + ["--json", "images", "s2"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == ["s2:one", "s2:two"]
    assert listed[1]["acquired"].startswith("2020-03-01")
    assert cli_main(c + ["products"]) == 0
    assert "blue red nir coastal" in capsys.readouterr().out
    assert cli_main(c + ["remove-image", "s2:one"]) == 0
    assert cli_main(c + ["remove-image", "s2:one"]) == 1
    assert "not found" in capsys.readouterr().err


def write_raster(path: Path, count: int) -> Path:
    """A small georeferenced GeoTIFF of ``count`` uint8 bands near Santa Fe."""
    transform = rasterio.transform.from_origin(-106.0, 35.7, 0.001, 0.001)
    profile = {
        "driver": "GTiff", "width": 8, "height": 8, "count": count, "dtype": "uint8",
        "crs": "EPSG:4326", "transform": transform,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        for b in range(1, count + 1):
            dst.write(np.full((8, 8), 10 * b, dtype=np.uint8), b)
    return path


def test_cli_options_in_any_order_remove_product_and_errors_naming_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ["--catalog", str(tmp_path / "cli.sqlite")]
    rgb = ["--band", "red:0:255", "--band", "green:0:255", "--band", "blue:0:255"]
    three = write_raster(tmp_path / "three.tif", 3)
    assert cli_main(["create-product", "p", *rgb, *c]) == 0
    # Options before the path, and the common options after the command.
    assert (
        cli_main(["add-image", "p", "--acquired", "2020-02-19", "--id", "x", str(three), *c]) == 0
    )
    capsys.readouterr()
    assert cli_main(["images", "p", "--json", *c]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["acquired"][:10]) for r in listed] == [("p:x", "2020-02-19")]
    # A file with the wrong band count: the error names the command-line fix.
    one = write_raster(tmp_path / "one.tif", 1)
    assert cli_main(["add-image", "p", str(one), *c]) == 1
    assert "--band-file NAME=PATH" in capsys.readouterr().err
    # Redefining a product names the command that removes it, and that command works.
    assert cli_main(["create-product", "p", "--band", "grey:0:255", *c]) == 1
    assert "python -m tiles catalog remove-product p" in capsys.readouterr().err
    assert cli_main(["remove-product", "p", *c]) == 0
    assert cli_main(["images", "p", *c]) == 1
    assert "not found" in capsys.readouterr().err
    assert cli_main(["create-product", "p", "--band", "grey:0:255", *c]) == 0
    assert cli_main(["add-image", "p", str(one), *c]) == 1  # the file says no date
    assert "--acquired" in capsys.readouterr().err
    assert cli_main(["add-image", "p", str(one), "--acquired", "2021-05-01", *c]) == 0


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("5", "--bands-json must be a JSON list"),
        ('{"name": "a", "data_range": [0, 1]}', "--bands-json must be a JSON list"),
        ("[1]", "a band is an object with name and data_range, not 1"),
        ("[", "Expecting value"),
    ],
)
def test_bands_json_that_is_not_a_list_of_bands_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, named: str
) -> None:
    c = ["--catalog", str(tmp_path / "cli.sqlite")]
    assert cli_main(["create-product", "p", "--bands-json", given, *c]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err and len(err.strip().splitlines()) == 1
