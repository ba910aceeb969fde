"""One JSON form for what a Python reader sees, so the Jest spec compares the writers' view (make_files.py)
with the readers' view of tiled-ts's output (read_back.py) value for value."""
import json

import h5py
import numpy as np


def scalar(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def array(a, chunks=None):
    a = np.asarray(a)
    out = {"dtype": a.dtype.name, "shape": list(a.shape), "values": [scalar(v) for v in a.ravel().tolist()]}
    if chunks is not None:
        out["chunks"] = list(chunks)
    return out


def attribute(value):
    """An attribute's type as numpy names it (int64, float64, uint8, str…) and its value."""
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return {"type": "str[]", "value": [scalar(v) for v in value.tolist()]}
        return {"type": value.dtype.name + "[]", "value": value.tolist()}
    return {"type": np.asarray(value).dtype.name, "value": scalar(value)}


def attributes(obj):
    return {name: attribute(value) for name, value in obj.attrs.items()}


def hdf5_tree(file):
    """Every group and dataset of an open h5py file, by path: attributes, and a dataset's values."""
    tree = {"/": {"kind": "group", "attrs": attributes(file)}}

    def visit(name, obj):
        if isinstance(obj, h5py.Group):
            tree[name] = {"kind": "group", "attrs": attributes(obj)}
            return
        string = h5py.check_string_dtype(obj.dtype)
        if string is not None:
            data = {"dtype": "str:" + string.encoding, "shape": list(obj.shape), "values": obj.asstr()[()].ravel().tolist()}
        else:
            data = array(obj[()])
        tree[name] = {"kind": "dataset", "attrs": attributes(obj), **data}

    file.visititems(visit)
    return tree


def column_type(series):
    """numpy's name of the column type; "string" for text, which pandas 1 and 2 hold as object, pandas 3 as str."""
    return "string" if series.dtype.kind in "OU" or series.dtype.name in ("str", "string") else series.dtype.name


def frame(df):
    return {str(column): {"dtype": column_type(df[column]), "values": [scalar(v) for v in df[column].tolist()]} for column in df.columns}


def dump(value):
    print(json.dumps(value, allow_nan=False))
