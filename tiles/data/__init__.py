"""The data layer: the catalog of products and images, STAC sources, the generated sample
catalog, vector products and reading pixels from rasters into a GeoContext's grid."""
