#!/usr/bin/env python3
"""What convert.py refuses: each test alters one node of a real source graph (or a norm table) and expects the
conversion to stop with a message that names what is wrong (SystemExit), never to crash or to write a wrong graph.

    python -m unittest discover models
"""
from __future__ import annotations

import copy
import sys
import unittest
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert import (half_table, half_table_check, onnx_path, quantise, recover_arbitrary,  # noqa: E402
                     recover_multistyle26)
from float_activations import float_activation_model, source_path  # noqa: E402


def first(model, op_type: str):
    return next(node for node in model.graph.node if node.op_type == op_type)


class ArbitraryRefusals(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.models = {name: float_activation_model(onnx.load(str(source_path(name))))
                      for name in ("arbitrary_predict", "arbitrary_transform")}

    def altered(self, name: str):
        return copy.deepcopy(self.models[name])

    def assert_refused(self, model, *words: str):
        with self.assertRaises(SystemExit) as refusal:
            recover_arbitrary(model)
        for word in words:
            self.assertIn(word, str(refusal.exception))

    def test_the_unaltered_graphs_are_recovered(self):
        for name, op_count, output in (("arbitrary_predict", 99, "mobilenet_conv"),
                                       ("arbitrary_transform", 47, "expand.conv3.norm.sigmoid")):
            ops, tensors, info = recover_arbitrary(self.altered(name))
            self.assertEqual((len(ops), info["output"]), (op_count, output), name)
            self.assertTrue(all(op["weight"] in tensors for op in ops if op["op"] == "conv2d"), name)

    def test_an_op_without_a_pattern_is_refused(self):
        model = self.altered("arbitrary_transform")
        first(model, "Sigmoid").op_type = "Tanh"
        self.assert_refused(model, "unsupported op Tanh", "Sigmoid")

    def test_a_norm_step_outside_a_norm_is_refused(self):
        model = self.altered("arbitrary_transform")
        first(model, "Mul").input[1] = model.graph.input[1].name  # a centered value times the style vector
        self.assert_refused(model, "Mul of centered and style vector", "norm_squared")

    def test_a_padded_value_read_by_a_relu_is_refused(self):
        model = self.altered("arbitrary_transform")
        first(model, "Relu").input[0] = first(model, "Pad").output[0]
        self.assert_refused(model, "a padded value reaches a Relu")

    def test_a_dilated_conv_is_refused(self):
        model = self.altered("arbitrary_predict")
        first(model, "Conv").attribute.append(onnx.helper.make_attribute("dilations", [2, 2]))
        self.assert_refused(model, "dilation")

    def test_a_graph_output_that_is_a_constant_is_refused(self):
        model = self.altered("arbitrary_predict")
        model.graph.output[0].name = model.graph.initializer[0].name
        self.assert_refused(model, "the graph output: expected an activation, got a constant")


class Multistyle26Refusals(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = onnx.load(str(onnx_path()))

    def test_the_unaltered_graph_is_recovered(self):
        ops, _, style_count = recover_multistyle26(copy.deepcopy(self.model))
        self.assertEqual((len(ops), style_count), (56, 26))

    def test_an_op_type_that_is_no_pattern_or_part_is_refused(self):
        model = copy.deepcopy(self.model)
        first(model, "Sigmoid").op_type = "Tanh"
        with self.assertRaises(SystemExit) as refusal:
            recover_multistyle26(model)
        self.assertIn("unsupported op Tanh", str(refusal.exception))


class HalfTables(unittest.TestCase):
    """The norm tables are stored as f16 (format version 2) only where f16 holds them and the output barely moves."""

    @classmethod
    def setUpClass(cls):
        cls.ops, cls.tensors, _ = recover_multistyle26(onnx.load(str(onnx_path())))

    def stored(self, tables):
        """The tensors as convert.py stores them, with the given norm tables."""
        out = {}
        for name, value in self.tensors.items():
            if name.endswith(".weight"):
                out[name], out[name.removesuffix("weight") + "weight_scale"] = quantise(value)
            elif name in tables:
                out[name] = tables[name]
            else:
                out[name] = value
        return out

    def test_a_table_beyond_f16_range_is_refused(self):
        table = np.ones((26, 8), np.float32)
        self.assertEqual(half_table("x.norm.gamma", table).dtype, np.float16)
        table[3, 5] = 70000.0  # above 65504, f16's largest finite value
        with self.assertRaises(SystemExit) as refusal:
            half_table("x.norm.gamma", table)
        self.assertIn("x.norm.gamma", str(refusal.exception))

    def test_the_real_tables_pass_and_damaged_ones_are_refused(self):
        names = [n for n in self.tensors if n.endswith((".norm.gamma", ".norm.beta"))]
        halves = {n: half_table(n, self.tensors[n]) for n in names}
        half_table_check(self.ops, self.stored(halves), self.tensors)
        # A table rounded far coarser than f16 (every gamma of the first norm to a multiple of 0.5) must fail.
        coarse = dict(halves)
        first_gamma = names[0]
        coarse[first_gamma] = (np.round(self.tensors[first_gamma] * 2) / 2).astype(np.float16)
        with self.assertRaises(SystemExit) as refusal:
            half_table_check(self.ops, self.stored(coarse), self.tensors)
        self.assertIn("f16 norm tables cost too much", str(refusal.exception))


if __name__ == "__main__":
    unittest.main()
