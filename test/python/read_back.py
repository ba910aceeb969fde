"""Read what a tiled-ts server serves with the Python ecosystem's readers and print (as JSON) what they
see. stdin: {"url", "key", and lists of node paths per reader}; each failure is reported, not raised."""
import io
import json
import sys
import urllib.request

import h5py
import numpy as np
import pandas as pd
import tifffile
import zarr

import describe

request = json.load(sys.stdin)
url, headers = request["url"], {"Authorization": f"Apikey {request['key']}"}


def download(path):
    with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers)) as response:
        return response.read()


def zarr_v2(path):
    """zarr-python on /zarr/v2 through fsspec's HTTP file system, the key as a header."""
    return dict(mode="r", storage_options={"client_kwargs": {"headers": headers}}, store=f"{url}/zarr/v2/{path}")


def zarr_array(path):
    array = zarr.open_array(**zarr_v2(path))
    return {**describe.array(array[...], array.chunks), "attrs": dict(array.attrs)}


def zarr_group(path):
    group = zarr.open_group(**zarr_v2(path))
    return {"keys": sorted(group.keys()), "attrs": dict(group.attrs)}


def hdf5(path):
    with h5py.File(io.BytesIO(download(f"/api/v1/container/full/{path}?format=h5")), "r") as file:
        return describe.hdf5_tree(file)


def tiff(path):
    with tifffile.TiffFile(io.BytesIO(download(f"/api/v1/array/full/{path}?format=tiff"))) as file:
        return describe.array(file.asarray())


def npy(path):
    return describe.array(np.load(io.BytesIO(download(f"/api/v1/array/full/{path}?format=npy"))))


def table(path):
    csv = download(f"/api/v1/table/full/{path}?format=csv")
    xlsx = download(f"/api/v1/table/full/{path}?format=xlsx")
    return {"csv": describe.frame(pd.read_csv(io.BytesIO(csv))), "xlsx": describe.frame(pd.read_excel(io.BytesIO(xlsx), engine="openpyxl"))}


READERS = {"zarr_array": zarr_array, "zarr_group": zarr_group, "hdf5": hdf5, "tiff": tiff, "npy": npy, "table": table}
results = {}
for reader, paths in request["read"].items():
    results[reader] = {}
    for path in paths:
        try:
            results[reader][path] = READERS[reader](path)
        except Exception as error:  # reported per node, so one failure does not hide the others
            results[reader][path] = {"error": f"{type(error).__name__}: {error}"}
describe.dump({"versions": {m.__name__: m.__version__ for m in (h5py, zarr, tifffile, pd, np)}, **results})
