"""Loading and saving models: the only module that touches files and protobuf framing.

Loads refuse anything that is not a sound ONNX model before any work starts; saves are atomic (a temporary file in
the target directory, then a rename), so a failed or interrupted run never leaves a partial output behind.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import onnx_graphsurgeon as gs
from google.protobuf.message import DecodeError
from onnx_graphsurgeon.exporters.onnx_exporter import OnnxExporter
from onnx_graphsurgeon.ir.tensor import LazyValues, SparseValues
from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model, uses_external_data

from .errors import InputError, OutputError, UnsupportedModelError, UsageError

# Models larger than this are saved with their weights in an external data file beside the model.
EXTERNAL_DATA_THRESHOLD = 1_800_000_000
QUANTIZED_OPS = frozenset(
    {"QLinearConv", "ConvInteger", "QLinearMatMul", "MatMulInteger", "DequantizeLinear", "QuantizeLinear",
     "DynamicQuantizeLinear", "QGemm"}
)


def load_model(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Read and check an ONNX model file, with its external data; raise InputError on anything malformed."""
    return read_model(path)[0]


def read_model(path: str | os.PathLike[str]) -> tuple[onnx.ModelProto, bytes | None]:
    """`load_model`, also returning the file's bytes when they are the whole model (no external data)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"input file not found: {p}")
    if not p.is_file():
        raise InputError(f"input is not a regular file: {p}")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"input file is empty: {p}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror}") from None
    # The checker runs before parsing here, so its copy and ours are not alive together. It reads external data
    # relative to the working directory, so for such models it runs again once the data is loaded and vetted.
    checker_error = _checker_error(data)
    if checker_error is not None:
        parse_model(data, str(p))  # bytes that are no model at all get that message
    model = parse_model(data, str(p))
    external = _load_external_data(model, p.parent.resolve(), str(p))
    if checker_error is not None and external:
        serialized = serialize(model)
        checker_error = _checker_error(serialized) if serialized is not None else None
    if checker_error is not None:
        raise InputError(f"{p} fails the ONNX checker: {checker_error}")
    _refuse_quantized(model, str(p))
    check_tensor_sizes(model, str(p))
    return model, None if external else data


def parse_model(data: bytes, name: str = "input") -> onnx.ModelProto:
    """Parse serialized bytes into a ModelProto, refusing bytes that are not a model."""
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise InputError(f"{name} is not an ONNX model (protobuf parse failed; truncated or another format)") from None
    if not model.HasField("graph") or len(model.graph.node) == 0 or model.ir_version <= 0:
        raise InputError(f"{name} is not an ONNX model (no graph, nodes or IR version)")
    return model


def _load_external_data(model: onnx.ModelProto, base: Path, name: str) -> bool:
    """Load external tensor data, refusing locations outside the model's folder or ranges past a file's end.
    Returns whether there was any."""
    found = False
    for tensor in _all_tensors(model):
        if not uses_external_data(tensor):
            continue
        info = ExternalDataInfo(tensor)
        location = str(info.location)
        target = (base / location).resolve()
        if os.path.isabs(location) or not target.is_relative_to(base):
            raise InputError(f"{name}: external data of {tensor.name!r} points outside the model folder ({location})")
        if not target.is_file():
            raise InputError(f"{name}: external data file of {tensor.name!r} is missing ({location})")
        offset = int(info.offset or 0)
        length = int(info.length) if info.length else target.stat().st_size - offset
        if offset < 0 or length < 0 or offset + length > target.stat().st_size:
            raise InputError(f"{name}: external data of {tensor.name!r} runs past the end of {location}")
        with open(target, "rb") as fh:
            fh.seek(offset)
            tensor.raw_data = fh.read(length)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
        found = True
    return found


def check_tensor_sizes(model: onnx.ModelProto, name: str) -> None:
    """Refuse tensors whose declared shape does not match the data they hold (a malformed or hostile file)."""
    for tensor in _all_tensors(model):
        if any(d < 0 for d in tensor.dims):
            raise InputError(f"{name}: tensor {tensor.name!r} has a negative dimension {list(tensor.dims)}")
        count = 1
        for d in tensor.dims:
            count *= d
        if tensor.HasField("raw_data") or tensor.raw_data:
            try:
                itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
            except (KeyError, ValueError, TypeError):
                continue
            if tensor.data_type in (onnx.TensorProto.STRING,) or itemsize == 0:
                continue
            if len(tensor.raw_data) != count * itemsize and tensor.data_type not in _PACKED:
                raise InputError(f"{name}: tensor {tensor.name!r} declares {count} elements but holds "
                                 f"{len(tensor.raw_data)} bytes")
        else:
            field = onnx.helper.tensor_dtype_to_field(tensor.data_type) if tensor.data_type else None
            held = len(getattr(tensor, field)) if field else 0
            if field and held not in (count, 0) and tensor.data_type not in _COMPLEX:
                raise InputError(f"{name}: tensor {tensor.name!r} declares {count} elements but holds {held}")


_PACKED = {onnx.TensorProto.INT4, onnx.TensorProto.UINT4} if hasattr(onnx.TensorProto, "INT4") else set()
_COMPLEX = {onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128, onnx.TensorProto.FLOAT16,
            onnx.TensorProto.BFLOAT16}


def _all_tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                tensors.append(attr.t)
    return tensors


def serialize(model: onnx.ModelProto) -> bytes | None:
    """The model's bytes, or None when it is too large for one protobuf (then it is saved with external data)."""
    try:
        data = model.SerializeToString()
    except ValueError:
        return None
    return data if len(data) < EXTERNAL_DATA_THRESHOLD else None


def check_input_model(model: onnx.ModelProto, name: str, data: bytes | None = None) -> None:
    """Reject models the ONNX checker rejects, and quantized models (prune before quantizing)."""
    data = data if data is not None else serialize(model)
    if data is not None:
        _check_bytes(data, name)
    _refuse_quantized(model, name)


def _refuse_quantized(model: onnx.ModelProto, name: str) -> None:
    quantized = sorted({n.op_type for n in model.graph.node if n.op_type in QUANTIZED_OPS})
    if quantized:
        raise UnsupportedModelError(
            f"{name} is quantized ({', '.join(quantized)}); prune the float model, then quantize it"
        )


def _check_bytes(data: bytes, name: str) -> None:
    """The ONNX checker on serialized bytes; bytes that are no model at all get parse_model's message."""
    error = _checker_error(data)
    if error is not None:
        parse_model(data, name)
        raise InputError(f"{name} fails the ONNX checker: {error}")


def _checker_error(data: bytes) -> str | None:
    """The first line of the ONNX checker's complaint about `data`, or None when it has none."""
    try:
        onnx.checker.check_model(data)
    except (onnx.checker.ValidationError, ValueError, RuntimeError) as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def check_output_path(input_path: str | os.PathLike[str] | None, output: str | os.PathLike[str], force: bool,
                      what: str = "output") -> Path:
    """Fail before any work when the output cannot or must not be written."""
    out = Path(output)
    if input_path is not None and out.exists() and Path(input_path).exists():
        if os.path.samefile(out, input_path):
            raise UsageError(f"{what} path is the input file: {out}")
    elif input_path is not None and out.resolve() == Path(input_path).resolve():
        raise UsageError(f"{what} path is the input file: {out}")
    if out.exists() and out.is_dir():
        raise OutputError(f"{what} path is a directory: {out}")
    if out.exists() and not force:
        raise OutputError(f"{what} file exists: {out} (use --force to overwrite)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{what} directory does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} directory is not writable: {parent}")
    return out


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it the mode a plain open would
        os.replace(tmp, target)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target}: {exc.strerror}") from None
        raise


@contextmanager
def materialized(model: onnx.ModelProto | bytes, extra_outputs: list[onnx.ValueInfoProto] | None = None
                 ) -> Iterator[bytes | str]:
    """The model as onnxruntime and the checker take it, with `extra_outputs` appended to its graph outputs: its
    bytes, or for a model over 2 GB the path of a temporary copy saved with external data."""
    extra = extra_outputs or []
    if isinstance(model, bytes):
        yield model + _outputs_message(extra) if extra else model
        return
    data = serialize(model)
    if data is not None:
        yield data + _outputs_message(extra) if extra else data
        return
    count = len(model.graph.output)
    model.graph.output.extend(extra)
    try:
        with tempfile.TemporaryDirectory(prefix="onnxfpgm-") as tmp:
            path = Path(tmp) / "model.onnx"
            save_model(model, path, external=True)
            yield str(path)
    finally:
        del model.graph.output[count:]


def _outputs_message(outputs: list[onnx.ValueInfoProto]) -> bytes:
    """A ModelProto holding only graph outputs. Appended to a serialized model, protobuf's merge rules add them
    to its outputs (repeated fields concatenate), so the weights are not copied into a second ModelProto."""
    extra = onnx.ModelProto()
    extra.graph.output.extend(outputs)
    return extra.SerializeToString()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_model(model: onnx.ModelProto, path: str | os.PathLike[str], data: bytes | None = None,
               external: bool = False) -> None:
    """Save atomically; a model too large for one protobuf (or any, with `external`) gets its weights in
    `<name>.data` beside it. `data`, when given, is the model already serialized."""
    target = Path(path)
    data = data if data is not None or external else serialize(model)
    if data is not None and not external:
        atomic_write_bytes(target, data)
        return
    data_name = target.name + ".data"
    tmp_dir = tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        tmp_model = Path(tmp_dir) / target.name
        onnx.save_model(model, str(tmp_model), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=1024)
        os.replace(Path(tmp_dir) / data_name, target.parent / data_name)
        os.replace(tmp_model, target)
        # onnx moved the weights out of `model` while saving: read them back, so the caller's model stays whole
        load_external_data_for_model(model, str(target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        for leftover in Path(tmp_dir).glob("*"):
            _remove_quietly(str(leftover))
        os.rmdir(tmp_dir)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def to_graph(model: onnx.ModelProto) -> gs.Graph:
    """Import a model into onnx-graphsurgeon's IR (weights stay lazy, unread until used)."""
    return gs.import_onnx(model)


def to_model(graph: gs.Graph, like: onnx.ModelProto, consume: bool = False) -> onnx.ModelProto:
    """Export a graph into a new model that keeps the model-level fields of `like`.

    Nodes, tensors and value infos are converted by onnx-graphsurgeon's exporter; they are copied one by one into
    the new model rather than through `make_graph` and `make_model`, which keep two copies of every weight alive.
    With `consume`, each weight the graph holds as an array is released once copied (the graph is spent).
    """
    model = onnx.ModelProto()
    for field in ("ir_version", "producer_name", "producer_version", "domain", "model_version", "doc_string"):
        setattr(model, field, getattr(like, field))
    model.opset_import.extend(like.opset_import)
    model.metadata_props.extend(like.metadata_props)
    model.functions.extend(like.functions)
    out = model.graph
    out.name = like.graph.name
    out.doc_string = like.graph.doc_string
    for node in graph.nodes:
        out.node.add().CopyFrom(OnnxExporter.export_node(node))
    for tensors, target in ((graph.inputs, out.input), (graph.outputs, out.output)):
        for tensor in tensors:
            target.add().CopyFrom(OnnxExporter.export_value_info_proto(tensor, do_type_check=False))
    boundary = {t.name for t in graph.inputs} | {t.name for t in graph.outputs}
    for name, tensor in graph.tensors().items():
        if isinstance(tensor, gs.Constant):
            if isinstance(tensor._values, SparseValues):
                out.sparse_initializer.add().CopyFrom(OnnxExporter.export_sparse_tensor_proto(tensor))
            else:
                out.initializer.add().CopyFrom(OnnxExporter.export_tensor_proto(tensor))
                if consume and not isinstance(tensor._values, LazyValues):
                    tensor.values = np.zeros(0, dtype=tensor.dtype)
        elif name not in boundary and (tensor.dtype is not None or tensor.shape is not None):
            out.value_info.add().CopyFrom(OnnxExporter.export_value_info_proto(tensor, do_type_check=False))
    return model
