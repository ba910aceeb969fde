"""The sample data of test/e2e/python-readers.e2e-spec.ts: the files make_files.py writes with the
Python ecosystem's own writers, and the values read_back.py expects from tiled-ts for them."""
import numpy as np

# h5py: chunked and compressed datasets in nested groups, attributes of every scalar kind.
H5_COUNTS = (np.arange(48, dtype="<i4").reshape(6, 8) * 7 - 100)
H5_IMAGE = np.linspace(-1.5, 2.5, 20, dtype="<f8").reshape(4, 5)
H5_BIG_ENDIAN = np.arange(10, dtype=">u2") * 1000
H5_FLAGS = np.array([True, False, True, True, False])

# zarr-python 2: a v2 store with a Blosc and a zlib chunked array and group attributes.
ZARR_STACK = (np.arange(24, dtype="<i2").reshape(4, 6) - 12) * 3
ZARR_RAMP = np.linspace(0, 1, 10, dtype="<f4")

# tifffile, numpy
TIFF_IMAGE = (np.arange(35, dtype="<u2").reshape(5, 7) * 997) % 65535
NPY_VECTOR = np.array([2.5, -1.0, 1e300, 0.0, -7.25])

# pandas: the CSV file and both sheets of the workbook.
RUNS = {
    "run": [1, 2, 3, 4],
    "energy": [7.1, 7.25, 7.5, 8.0],
    "sample": ["Si", "Ge", "GaAs", "Si"],
    "ok": [True, False, True, True],
}
SHEETS = {
    "scans": {"scan": [10, 11, 12], "time": [0.5, 1.0, 1.5]},
    "notes": {"who": ["ada", "bob"], "count": [3, 4]},
}


def table_frames():
    import pandas as pd

    return pd.DataFrame(RUNS), {name: pd.DataFrame(columns) for name, columns in SHEETS.items()}
