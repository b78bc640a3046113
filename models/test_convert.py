#!/usr/bin/env python3
"""What convert.py refuses: each test alters one node of a real source graph and expects the conversion to stop with
a message that names what is wrong (SystemExit), never to crash or to write a wrong graph.

    python -m unittest discover models
"""
from __future__ import annotations

import copy
import sys
import unittest
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert import onnx_path, recover_arbitrary, recover_multistyle26  # noqa: E402
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


if __name__ == "__main__":
    unittest.main()
