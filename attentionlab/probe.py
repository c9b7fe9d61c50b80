"""Calls from the grader into a student's kernel, carried as data.

While grading, the grader asks the kernel to call a student's function on inputs it drew, reads back the
outputs and judges them in its own process. A message is one ``.npz`` file: a JSON tree in the member
``spec`` and the arrays it refers to. Nothing in it is pickled or executed, so either side can read what
the other wrote without trusting it.

Values: None, bool, int, float, str, lists, tuples, dicts with string keys, NumPy arrays (tensors are
converted), Keras layers sent by the grader (rebuilt from their config and weights), and handles: objects
that stay in the kernel (a layer the student's class built), named by a number.
"""
from __future__ import annotations

import io
import json
import os
import stat
import zipfile

import numpy as np

SPEC = "spec"
HANDLES: dict[int, object] = {}  # kernel side: objects the grader refers to by number


class MessageError(ValueError):
    """A message that is not well-formed, or too large."""


def encode(value, arrays: dict[str, np.ndarray], keep=None):
    """JSON tree for ``value``; arrays go to ``arrays``. ``keep(obj) -> int`` stores what cannot be sent."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [encode(v, arrays, keep) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, arrays, keep) for k, v in value.items()}}
    if isinstance(value, Handle):
        return {"handle": value.number}
    if _is_layer(value) and keep is None:
        return {"layer": _layer_config(value), "weights": encode(value.get_weights(), arrays)}
    array = _as_array(value)
    if array is not None:
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"array": name}
    if keep is None:
        raise MessageError(f"cannot send a {type(value).__name__}")
    return {"handle": keep(value), "type": type(value).__name__}


def decode(tree, arrays, resolve=lambda number: Handle(number), layers: bool = False):
    """The value of a JSON tree written by :func:`encode`; ``resolve`` turns handle numbers into objects.

    Only the kernel rebuilds layers (``layers=True``): the grader never builds what a kernel describes.
    """
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise MessageError("malformed value")
    (tag, body), *_ = tree.items()
    if tag in ("list", "tuple") and isinstance(body, list):
        items = [decode(v, arrays, resolve, layers) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(body, dict):
        return {str(k): decode(v, arrays, resolve, layers) for k, v in body.items()}
    if tag == "array" and body in arrays:
        return arrays[body]
    if tag == "handle" and isinstance(body, int):
        return resolve(body)
    if tag == "layer" and layers:
        return _rebuild_layer(body, decode(tree["weights"], arrays))
    raise MessageError(f"unknown value tag {tag!r}")


class Handle:
    """An object that lives in the kernel, seen from the grader."""

    def __init__(self, number: int):
        self.number = number

    def __repr__(self):
        return f"<kernel object {self.number}>"


def write(path, tree, arrays: dict[str, np.ndarray]) -> None:
    """Write one message (no pickles) to ``path``."""
    spec = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **{SPEC: spec}, **arrays)


def read(path, max_bytes: int, dir_fd: int | None = None):
    """(tree, arrays) of the message at ``path``: a regular file, no links, at most ``max_bytes`` unpacked.

    Opened non-blocking, then checked with fstat before any read: a named pipe left in its place would otherwise
    make the reader wait for a writer forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        raise MessageError(f"no reply ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            raise MessageError("the reply is not a regular file or is too large")
        data = fh.read(max_bytes + 1)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > max_bytes:
                raise MessageError("the reply unpacks to more than the size limit")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        tree = json.loads(arrays.pop(SPEC).tobytes().decode())
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise MessageError(f"unreadable reply: {exc}") from None
    return tree, arrays


def answer(request: str, reply: str) -> None:
    """Kernel side: perform the call described in ``request``; write its result or its error to ``reply``."""
    tree, arrays = read(request, max_bytes=1 << 30)
    out: dict[str, np.ndarray] = {}
    try:
        target = _target(tree["target"], arrays)
        if tree["target"].get("read"):  # the value itself (an answer to a question, a dict of models), not a call
            result = {"value": encode(target, out, keep=_keep if tree["target"].get("handles") else None)}
        else:
            args = decode(tree["args"], arrays, HANDLES.__getitem__, layers=True)
            kwargs = decode(tree["kwargs"], arrays, HANDLES.__getitem__, layers=True)
            result = {"value": encode(target(*args, **kwargs), out, keep=_keep)}
    except Exception as exc:  # the student's code failed: the grader reports it
        out.clear()
        result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    write(reply, result, out)


def _target(spec: dict, arrays):
    """What to call: a name of the notebook's namespace, a method of a kept object, or a kept object."""
    if "name" in spec:
        import __main__

        if spec["name"] not in vars(__main__):
            raise NameError(f"name {spec['name']!r} is not defined in your notebook")
        return vars(__main__)[spec["name"]]
    obj = HANDLES[spec["handle"]]
    return getattr(obj, spec["method"]) if spec.get("method") else obj


def _keep(obj) -> int:
    number = len(HANDLES) + 1
    HANDLES[number] = obj
    return number


def _as_array(value):
    """A NumPy array for arrays, NumPy scalars and tensors; None for anything else."""
    if isinstance(value, np.ndarray):
        return value if value.dtype != object else None
    if isinstance(value, np.generic):
        return np.asarray(value)
    if type(value).__module__.startswith(("tensorflow", "keras", "jax", "torch")) and hasattr(value, "shape"):
        from keras import ops

        return ops.convert_to_numpy(value)
    return None


def _is_layer(value) -> bool:
    return type(value).__module__.startswith("keras") and hasattr(value, "get_config") and hasattr(value, "get_weights")


def _layer_config(layer) -> dict:
    import keras

    return {"class": keras.saving.serialize_keras_object(layer), "build": layer.get_build_config()}


def _rebuild_layer(config: dict, weights: list):
    """A Keras layer from the grader: same class, configuration and weights."""
    import keras

    layer = keras.saving.deserialize_keras_object(config["class"])
    if config.get("build") and not layer.built:
        layer.build_from_config(config["build"])
    layer.set_weights(weights)
    return layer
