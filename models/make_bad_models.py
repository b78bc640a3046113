#!/usr/bin/env python3
"""Write tests/bad/: malformed model files that the Rust loader must refuse with a typed error, never a panic or a
large allocation, and tests/bad/expected.json (file name -> the `vitrine::Error` variant it must produce).

Most files are derived from the shipped model. To keep them a few KB each they start from a small but valid network
cut from it (tests/bad/base/tiny_model.safetensors, also written here): the real first layer, its conditional norm
sliced to its first 8 filters, feeding the real last two layers (8->4 and 4->3) with their norms, then the sigmoid;
real tensor names, real op entries, 26 styles, its norm tables f16 as the shipped model's are (format version 2). The
Rust tests load that file successfully, so each bad file differs from a loadable model by its one fault. Its twin in
format version 1 (tests/bad/base/tiny_model_v1.safetensors: the same values, the tables widened to f32) loads too.

    python models/make_bad_models.py
"""
from __future__ import annotations

import copy
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors import safe_open
from safetensors.numpy import load_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODEL = HERE / "multistyle26.vitrine.safetensors"
BAD = ROOT / "tests" / "bad"
TINY = BAD / "base" / "tiny_model.safetensors"
TINY_V1 = BAD / "base" / "tiny_model_v1.safetensors"

DTYPES = {np.dtype(np.int8): "I8", np.dtype(np.float32): "F32", np.dtype(np.uint8): "U8",
          np.dtype(np.float16): "F16", np.dtype(np.float64): "F64"}


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None,
                      dtype_override: dict[str, str] | None = None) -> bytes:
    """A safetensors file written by hand, so a test can declare anything it likes in the header."""
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = io.BytesIO()
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        dtype = (dtype_override or {}).get(name, DTYPES[array.dtype])
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [data.tell(), data.tell() + len(raw)]}
        data.write(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format's own writers align the data to 8 bytes
    return struct.pack("<Q", len(text)) + text + data.getvalue()


def real_model() -> tuple[dict[str, np.ndarray], dict]:
    tensors = load_file(str(MODEL))
    with safe_open(str(MODEL), framework="numpy") as f:
        description = json.loads(f.metadata()["vitrine"])
    return tensors, description


def tiny_model() -> tuple[dict[str, np.ndarray], dict]:
    """First layer (first 8 filters) -> last two layers, all from the shipped model."""
    tensors, description = real_model()
    keep = 8
    nodes = {node.get("name", node["output"]): node for node in description["nodes"]}
    out: dict[str, np.ndarray] = {
        "contract.0.weight": tensors["contract.0.weight"][:keep],
        "contract.0.weight_scale": tensors["contract.0.weight_scale"][:keep],
        "contract.0.norm.gamma": tensors["contract.0.norm.gamma"][:, :keep],
        "contract.0.norm.beta": tensors["contract.0.norm.beta"][:, :keep],
    }
    for layer in ("expand.1", "expand.2"):
        for suffix in (".weight", ".weight_scale", ".norm.gamma", ".norm.beta"):
            out[layer + suffix] = tensors[layer + suffix]
    expand1 = dict(nodes["expand.1"], input="contract.0.norm.relu")  # skips the cut-out middle and its upsample
    chain = [nodes["contract.0"], nodes["contract.0.norm"], nodes["contract.0.norm.relu"],
             expand1, nodes["expand.1.norm"], nodes["expand.1.norm.relu"],
             nodes["expand.2"], nodes["expand.2.norm"], nodes["stylized"]]
    tiny = dict(description, name="multistyle26-tiny", nodes=copy.deepcopy(chain))
    tiny.pop("source")
    return {k: np.ascontiguousarray(v) for k, v in out.items()}, tiny


def as_version_1(tensors: dict[str, np.ndarray], description: dict) -> tuple[dict[str, np.ndarray], dict]:
    """The same network in format version 1, which knows only f32 norm tables: f16 widened exactly."""
    widened = {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in tensors.items()}
    return widened, dict(description, version=1)


def meta(description: dict) -> dict[str, str]:
    return {"vitrine": json.dumps(description, sort_keys=True, separators=(",", ":"))}


def node(description: dict, key: str) -> dict:
    return next(n for n in description["nodes"] if n.get("name", n["output"]) == key)


def build() -> dict[str, tuple[bytes, str]]:
    real_bytes = MODEL.read_bytes()
    real_header_end = 8 + struct.unpack("<Q", real_bytes[:8])[0]
    base_t, base_d = tiny_model()
    cases: dict[str, tuple[bytes, str]] = {}

    def variant(name: str, kind: str, edit_tensors=None, edit_description=None, metadata=None, dtypes=None,
                version_1=False):
        t, d = as_version_1(base_t, base_d) if version_1 else (base_t, base_d)
        t, d = dict(t), copy.deepcopy(d)
        if edit_tensors:
            edit_tensors(t)
        if edit_description:
            edit_description(d)
        cases[name] = (safetensors_bytes(t, meta(d) if metadata is None else metadata, dtypes), kind)

    # --- not a readable container: ModelFormat -------------------------------------------------------------------
    cases["empty.safetensors"] = (b"", "ModelFormat")
    cases["seven_bytes.safetensors"] = (real_bytes[:7], "ModelFormat")
    cases["truncated_mid_header.safetensors"] = (real_bytes[:real_header_end // 2], "ModelFormat")
    cases["truncated_mid_data.safetensors"] = (real_bytes[:real_header_end + 1024], "ModelFormat")
    tiny_bytes = safetensors_bytes(base_t, meta(base_d))
    for label, n in (("2pow40", 1 << 40), ("2pow63", 1 << 63), ("u64max", (1 << 64) - 1)):
        cases[f"header_length_{label}.safetensors"] = (struct.pack("<Q", n) + tiny_bytes[8:520], "ModelFormat")
    cases["header_length_one_past_end.safetensors"] = (
        struct.pack("<Q", len(tiny_bytes) - 7) + tiny_bytes[8:], "ModelFormat")
    # Offsets that run past the end of the data: declared 4 MB, present 64 bytes.
    big = safetensors_bytes({"x": np.zeros(1 << 20, np.float32)}, meta(base_d))
    cut = big[:8 + struct.unpack("<Q", big[:8])[0] + 64]
    cases["data_offsets_beyond_file.safetensors"] = (cut, "ModelFormat")
    png = io.BytesIO()
    Image.new("RGBA", (8, 8), (200, 30, 30, 128)).save(png, format="PNG")
    cases["png_bytes.safetensors"] = (png.getvalue(), "ModelFormat")
    header = b'{"__metadata__":{"vitrine":"\xff\xfe"}}'
    cases["header_not_utf8.safetensors"] = (struct.pack("<Q", len(header)) + header, "ModelFormat")
    header = b"[1, 2, 3]"
    cases["header_not_an_object.safetensors"] = (struct.pack("<Q", len(header)) + header, "ModelFormat")
    # Two tensors claiming the same bytes.
    overlap = bytearray(safetensors_bytes({"a": np.zeros(4, np.float32), "b": np.zeros(4, np.float32)},
                                          meta(base_d)))
    text = overlap[8:8 + struct.unpack("<Q", overlap[:8])[0]].replace(b"[16,32]", b"[0,16] ")
    overlap[8:8 + len(text)] = text
    cases["overlapping_tensors.safetensors"] = (bytes(overlap), "ModelFormat")

    # --- readable container, unreadable or foreign description: ModelFormat / ModelVersion ---------------------
    variant("no_vitrine_metadata.safetensors", "ModelFormat", metadata={"format": "pt"})
    variant("no_metadata_at_all.safetensors", "ModelFormat", metadata={})
    variant("graph_not_json.safetensors", "ModelFormat", metadata={"vitrine": '{"format":"vitrine-model",'})
    variant("format_name_wrong.safetensors", "ModelFormat", edit_description=lambda d: d.update(format="onnx"))
    variant("format_missing.safetensors", "ModelFormat", edit_description=lambda d: d.pop("format"))
    variant("version_as_string.safetensors", "ModelFormat", edit_description=lambda d: d.update(version="1"))
    variant("version_negative.safetensors", "ModelFormat", edit_description=lambda d: d.update(version=-1))
    variant("version_3.safetensors", "ModelVersion", edit_description=lambda d: d.update(version=3))
    variant("version_0.safetensors", "ModelVersion", edit_description=lambda d: d.update(version=0))

    # --- readable, right version, inconsistent graph: ModelGraph -------------------------------------------------
    def set_node(key, **fields):
        return lambda d: node(d, key).update(fields)

    variant("unknown_op.safetensors", "ModelGraph", edit_description=set_node("contract.0.norm.relu", op="gelu"))
    variant("unknown_style_kind.safetensors", "ModelGraph",
            edit_description=lambda d: d["style"].update(kind="arbitrary"))
    variant("unknown_pad_mode.safetensors", "ModelGraph", edit_description=set_node("contract.0", pad_mode="wrap"))
    variant("nodes_missing.safetensors", "ModelGraph", edit_description=lambda d: d.pop("nodes"))
    variant("conv_in_channels_mismatch.safetensors", "ModelGraph",
            # expand.1 declares 16 input channels; the layer before it gives 8.
            edit_tensors=lambda t: t.update({"expand.1.weight": np.tile(t["expand.1.weight"], (1, 2, 1, 1))}))
    variant("missing_tensor.safetensors", "ModelGraph", edit_tensors=lambda t: t.pop("expand.1.weight_scale"))
    variant("weight_f32_not_i8.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.2.weight": t["expand.2.weight"].astype(np.float32)}))
    variant("weight_rank_3.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.2.weight": t["expand.2.weight"].reshape(3, 4, 81)}))
    variant("weight_zero_out_channels.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.2.weight": t["expand.2.weight"][:0],
                                             "expand.2.weight_scale": t["expand.2.weight_scale"][:0]}))
    variant("weight_declared_u8.safetensors", "ModelGraph", dtypes={"contract.0.weight": "U8"})

    def poke(name, index, value):
        def edit(t):
            t[name] = t[name].copy()
            t[name].flat[index] = value
        return edit

    variant("scale_nan.safetensors", "ModelGraph", edit_tensors=poke("expand.1.weight_scale", 2, np.nan))
    variant("scale_infinite.safetensors", "ModelGraph", edit_tensors=poke("contract.0.weight_scale", 0, np.inf))
    variant("scale_zero.safetensors", "ModelGraph", edit_tensors=poke("contract.0.weight_scale", 5, 0.0))
    variant("scale_negative.safetensors", "ModelGraph", edit_tensors=poke("expand.2.weight_scale", 1, -0.01))
    variant("scale_count_wrong.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.1.weight_scale": t["expand.1.weight_scale"][:3]}))
    variant("norm_gamma_nan.safetensors", "ModelGraph", edit_tensors=poke("expand.1.norm.gamma", 40, np.nan))
    variant("norm_beta_infinite.safetensors", "ModelGraph", edit_tensors=poke("contract.0.norm.beta", 9, -np.inf))
    # The tables above are f16, as the shipped model's. Also: a NaN with another payload; the same faults in a
    # version 1 file's f32 tables; f16 tables in a version 1 file; other float dtypes; bytes that do not fit the
    # declared dtype (refused by safetensors' own length check).
    variant("norm_gamma_f16_nan_payload.safetensors", "ModelGraph",
            edit_tensors=poke("contract.0.norm.gamma", 3, np.uint16(0x7e01).view(np.float16)))
    variant("v1_norm_gamma_nan_f32.safetensors", "ModelGraph", version_1=True,
            edit_tensors=poke("expand.1.norm.gamma", 40, np.nan))
    variant("v1_norm_beta_infinite_f32.safetensors", "ModelGraph", version_1=True,
            edit_tensors=poke("contract.0.norm.beta", 9, np.inf))
    variant("v1_norm_table_f16.safetensors", "ModelGraph", edit_description=lambda d: d.update(version=1))
    variant("norm_table_f64.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.1.norm.beta": t["expand.1.norm.beta"].astype(np.float64)}))
    variant("norm_table_declared_bf16.safetensors", "ModelGraph", dtypes={"expand.1.norm.gamma": "BF16"})
    variant("norm_f16_bytes_declared_f32.safetensors", "ModelFormat", dtypes={"expand.2.norm.gamma": "F32"})
    variant("norm_f32_bytes_declared_f16.safetensors", "ModelFormat", version_1=True,
            edit_description=lambda d: d.update(version=2), dtypes={"expand.2.norm.gamma": "F16"})
    variant("norm_table_25_styles.safetensors", "ModelGraph",
            edit_tensors=lambda t: t.update({"expand.2.norm.gamma": t["expand.2.norm.gamma"][:25]}))
    variant("norm_channels_mismatch.safetensors", "ModelGraph",
            # gamma and beta agree with each other (4 channels) but the conv before gives 3.
            edit_tensors=lambda t: t.update({"expand.2.norm.gamma": t["expand.1.norm.gamma"],
                                             "expand.2.norm.beta": t["expand.1.norm.beta"]}))
    variant("norm_eps_zero.safetensors", "ModelGraph", edit_description=set_node("expand.1.norm", eps=0.0))
    variant("read_before_write.safetensors", "ModelGraph",
            # The relu now comes before the norm it reads.
            edit_description=lambda d: d["nodes"].insert(1, d["nodes"].pop(2)))
    variant("output_written_twice.safetensors", "ModelGraph",
            edit_description=set_node("expand.1", output="contract.0"))
    variant("output_never_written.safetensors", "ModelGraph", edit_description=lambda d: d.update(output="styled"))
    variant("output_not_rgb.safetensors", "ModelGraph",
            # The graph output is the 4-channel activation before the last conv.
            edit_description=lambda d: d.update(output="expand.1.norm.relu"))
    variant("input_four_channels.safetensors", "ModelGraph", edit_description=lambda d: d["input"].update(channels=4))
    variant("stride_0.safetensors", "ModelGraph", edit_description=set_node("contract.0", stride=0))
    variant("groups_0.safetensors", "ModelGraph", edit_description=set_node("expand.1", groups=0))

    def insert_after(key, *new_nodes, rewire):
        def edit(d):
            i = next(i for i, n in enumerate(d["nodes"]) if n.get("name", n["output"]) == key)
            d["nodes"][i + 1:i + 1] = [dict(n) for n in new_nodes]
            rewire(d)
        return edit

    variant("upsample_factor_1000000.safetensors", "ModelGraph", edit_description=insert_after(
        "contract.0.norm.relu",
        {"op": "upsample_nearest", "input": "contract.0.norm.relu", "output": "up", "factor": 1000000},
        rewire=set_node("expand.1", input="up")))
    # Eight x8 upsamplings: each factor is allowed, the activation they make (5 * 8^8 a side) is not.
    ups = [{"op": "upsample_nearest", "input": "contract.0.norm.relu" if i == 0 else f"up{i - 1}",
            "output": f"up{i}", "factor": 8} for i in range(8)]
    variant("upsample_chain_huge.safetensors", "ModelGraph", edit_description=insert_after(
        "contract.0.norm.relu", *ups, rewire=set_node("expand.1", input="up7")))
    variant("kernel_9_pad_1000.safetensors", "ModelGraph", edit_description=set_node("contract.0", pad=1000))
    # Eight stride-8 convs in a row: the image side would have to be a multiple of 8^8.
    down = [dict(node(base_d, "expand.1"), name=f"down{i}", output=f"down{i}", stride=8,
                 weight="down.weight", weight_scale="down.weight_scale",
                 input="contract.0.norm.relu" if i == 0 else f"down{i - 1}") for i in range(8)]

    def strided(t):
        t["down.weight"] = np.ones((8, 8, 3, 3), np.int8)
        t["down.weight_scale"] = np.full(8, 0.01, np.float32)
    variant("stride_chain_too_coarse.safetensors", "ModelGraph", edit_tensors=strided,
            edit_description=insert_after("contract.0.norm.relu", *down, rewire=set_node("expand.1", input="down7")))
    variant("style_count_0.safetensors", "ModelGraph", edit_description=lambda d: d["style"].update(count=0))
    variant("style_count_1e9.safetensors", "ModelGraph", edit_description=lambda d: d["style"].update(count=10**9))
    variant("style_count_2pow64.safetensors", "ModelGraph",
            # Beyond u64: serde refuses the number while parsing the graph.
            metadata={"vitrine": meta(base_d)["vitrine"].replace('"count":26', '"count":18446744073709551616')})
    return cases


def main() -> int:
    BAD.mkdir(parents=True, exist_ok=True)
    TINY.parent.mkdir(parents=True, exist_ok=True)
    tensors, description = tiny_model()
    TINY.write_bytes(safetensors_bytes(tensors, meta(description)))
    tensors_v1, description_v1 = as_version_1(tensors, description)
    TINY_V1.write_bytes(safetensors_bytes(tensors_v1, meta(description_v1)))
    cases = build()
    for stale in BAD.glob("*.safetensors"):
        if stale.name not in cases:
            stale.unlink()
    for name, (data, _) in cases.items():
        (BAD / name).write_bytes(data)
    expected = {name: kind for name, (_, kind) in sorted(cases.items())}
    (BAD / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    total = sum(len(d) for d, _ in cases.values())
    print(f"wrote {len(cases)} bad models ({total} bytes) to {BAD.relative_to(ROOT)}, "
          f"and {TINY.relative_to(ROOT)} ({TINY.stat().st_size} bytes, version 2), "
          f"{TINY_V1.relative_to(ROOT)} ({TINY_V1.stat().st_size} bytes, version 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
