"""Write the sample files of samples.py into the folder given as the only argument, each with its
format's reference Python writer, for tiled-ts to serve; print (as JSON) what Python reads from them."""
import os
import sys

import h5py
import numpy as np
import pandas as pd
import tifffile
import zarr
from numcodecs import Blosc, Zlib

import describe
import samples

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)

with h5py.File(os.path.join(folder, "scan.h5"), "w") as f:
    f.attrs["title"] = "a scan"
    f.attrs["number"] = 42
    f.attrs["angles"] = [10, 20, 30]
    counts = f.create_dataset("counts", data=samples.H5_COUNTS, chunks=(3, 4))
    counts.attrs["units"] = "counts"
    counts.attrs["exposure"] = 0.5
    detector = f.create_group("detector")
    detector.attrs["name"] = "pilatus"
    detector.create_dataset("image", data=samples.H5_IMAGE, chunks=(2, 5), compression="gzip")
    f.create_dataset("big_endian", data=samples.H5_BIG_ENDIAN)
    f.create_dataset("flags", data=samples.H5_FLAGS)

root = zarr.open_group(os.path.join(folder, "frames.zarr"), mode="w")
root.attrs["instrument"] = "zarr-python"
root.create_dataset("stack", data=samples.ZARR_STACK, chunks=(2, 4), compressor=Blosc(cname="lz4", clevel=5))
root.create_dataset("ramp", data=samples.ZARR_RAMP, chunks=(4,), compressor=Zlib(level=1))

tifffile.imwrite(os.path.join(folder, "image.tif"), samples.TIFF_IMAGE)
np.save(os.path.join(folder, "vector.npy"), samples.NPY_VECTOR)

runs, sheets = samples.table_frames()
runs.to_csv(os.path.join(folder, "runs.csv"), index=False)
with pd.ExcelWriter(os.path.join(folder, "book.xlsx"), engine="openpyxl") as writer:
    for name, sheet in sheets.items():
        sheet.to_excel(writer, sheet_name=name, index=False)

# What the same libraries read back from these files: tiled-ts must serve exactly this.
with h5py.File(os.path.join(folder, "scan.h5"), "r") as f:
    scan = describe.hdf5_tree(f)
stored = zarr.open_group(os.path.join(folder, "frames.zarr"), mode="r")
describe.dump(
    {
        "scan": scan,
        "frames": {"keys": sorted(stored.keys()), **{key: describe.array(stored[key][...], stored[key].chunks) for key in stored.keys()}},
        "image": describe.array(tifffile.imread(os.path.join(folder, "image.tif"))),
        "vector": describe.array(np.load(os.path.join(folder, "vector.npy"))),
        "runs": describe.frame(pd.read_csv(os.path.join(folder, "runs.csv"))),
        "book": {name: describe.frame(pd.read_excel(os.path.join(folder, "book.xlsx"), sheet_name=name)) for name in sheets},
    }
)
