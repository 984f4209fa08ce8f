"""Build, with the original client (descarteslabs 1.12.1), the grafts its users' code sends.

Run by the py39 environment of ``tests/grpc``; prints them as JSON (keys numbered from 0 by
the client's ``consistent_guid``). ``tests/graft/original_client_grafts.json`` is its output.
"""

import json

import descarteslabs.workflows as wf
from descarteslabs._dl_modules.common.graft import client

grafts = {}
with client.consistent_guid():
    img = wf.Image.from_id("sample:s2:20230515_z13")
    grafts["rename_positional"] = img.pick_bands("red nir").rename_bands("r", "n").graft
with client.consistent_guid():
    img = wf.Image.from_id("sample:s2:20230515_z13")
    grafts["rename_keywords"] = img.pick_bands("red nir").rename_bands(red="r").graft
with client.consistent_guid():
    ic = wf.ImageCollection.from_id("sample:s2", "2023-05-01", "2023-06-01")
    grafts["rename_collection"] = ic.pick_bands("red").rename_bands("r").graft
with client.consistent_guid():
    # what publish() and a map layer send for an object that depends on a parameter
    threshold = wf.parameter("threshold", wf.Float)
    dem = wf.Image.from_id("sample:dem:santa_fe")
    grafts["function_of_parameter"] = wf.Function.from_object(dem > threshold).graft
print(json.dumps(grafts, indent=1, sort_keys=True))
