#!/usr/bin/python3
"""Builds tiny ONNX models for the decoder tests: their outputs are constants (or a plain
function of the input) so the detections they must decode to are known exactly.

usage: make-test-models.py <output folder>

Every detection model takes a float32 [1,3,64,64] NCHW `images` input; it is folded into the
outputs as 0 * mean(images) so the graph really consumes its input. The rows are written in
model-input pixels; test/models/ort-synthetic.test.ts lists the detections each must give.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def image_input(size=64):
    return helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, size, size])


def zero_from_input(prefix):
    """Nodes computing a scalar 0 that depends on `images` (ReduceMean then multiply by 0)."""
    return [
        helper.make_node('ReduceMean', ['images'], [f'{prefix}_mean'], keepdims=0),
        helper.make_node('Constant', [], [f'{prefix}_zero'], value=numpy_helper.from_array(np.array(0, np.float32))),
        helper.make_node('Mul', [f'{prefix}_mean', f'{prefix}_zero'], [f'{prefix}_nil']),
    ]


def constant_output(name, array, extra=None):
    """Nodes giving output `name` = array (+ 0 * mean(images)), optionally passed through `extra`."""
    nodes = zero_from_input(name)
    nodes.append(helper.make_node('Constant', [], [f'{name}_value'], value=numpy_helper.from_array(array)))
    target = name if extra is None else f'{name}_raw'
    if array.dtype == np.float32:
        nodes.append(helper.make_node('Add', [f'{name}_value', f'{name}_nil'], [target]))
    else:
        # Integer outputs (Custom Vision class ids) cannot add a float; keep them constant.
        nodes.append(helper.make_node('Identity', [f'{name}_value'], [target]))
    if extra is not None:
        nodes.append(extra(target, name))
    return nodes


def save(folder, file, nodes, outputs, inputs=None):
    graph = helper.make_graph(nodes, file.replace('.onnx', ''), inputs or [image_input()], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='percept-test')
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(folder, file))


# Rows shared by the YOLO-style models: cx, cy, w, h (input px), objectness, 3 class scores.
# Classes are (cat, dog, bird); the score threshold in the tests is 0.3, class-wise NMS IoU 0.45.
YOLO_ROWS = np.array([
    [20, 30, 16, 8, 0.9, 0.1, 0.8, 0.1],  # dog 0.72: kept
    [21, 30, 16, 8, 0.9, 0.1, 0.7, 0.1],  # dog 0.63, IoU 0.88 with the first: suppressed
    [21, 30, 16, 8, 0.9, 0.7, 0.1, 0.1],  # cat 0.63 at the same place: kept (class-wise NMS)
    [48, 40, 8, 8, 0.5, 0.2, 0.2, 0.5],   # bird 0.25 (v5) / 0.5 (v8)
    [48, 40, 8, 8, 0.8, 0.1, 0.1, 0.5],   # bird 0.40 (v5) / 0.5 (v8), overlaps the row above
    [10, 24, 4, 4, 0.2, 0.9, 0.0, 0.0],   # objectness 0.2: dropped by v5, cat 0.9 for v8
], dtype=np.float32)


def make_yolov5(folder):
    out = YOLO_ROWS[np.newaxis]  # [1, 6, 8]
    save(folder, 'yolov5.onnx', constant_output('output', out),
         [helper.make_tensor_value_info('output', TensorProto.FLOAT, list(out.shape))])


def make_yolov8(folder):
    # No objectness column; the model emits [1, 4 + C, N] through a real Transpose.
    rows = np.delete(YOLO_ROWS, 4, axis=1)[np.newaxis]  # [1, 6, 7]
    transpose = lambda src, dst: helper.make_node('Transpose', [src], [dst], perm=[0, 2, 1])
    save(folder, 'yolov8.onnx', constant_output('output0', rows, transpose),
         [helper.make_tensor_value_info('output0', TensorProto.FLOAT, [1, rows.shape[2], rows.shape[1]])])


def make_ssd_tf(folder):
    # TF Object Detection API layout: yxyx normalised boxes, 1-based float classes, a count.
    boxes = np.array([[
        [0.25, 0.125, 0.5, 0.375],   # class 1 (cat) 0.9
        [0.5, 0.5, 0.75, 1.0],       # class 3 (bird) 0.6
        [0.0, 0.0, 0.25, 0.25],      # class 2 (dog) 0.2: below threshold
        [0.0, 0.0, 1.0, 1.0],        # beyond num_detections: never read
    ]], dtype=np.float32)
    scores = np.array([[0.9, 0.6, 0.2, 0.99]], dtype=np.float32)
    classes = np.array([[1, 3, 2, 2]], dtype=np.float32)
    count = np.array([3], dtype=np.float32)
    nodes = (constant_output('detection_boxes', boxes) + constant_output('detection_scores', scores)
             + constant_output('detection_classes', classes) + constant_output('num_detections', count))
    save(folder, 'ssd-tf.onnx', nodes, [
        helper.make_tensor_value_info('detection_boxes', TensorProto.FLOAT, [1, 4, 4]),
        helper.make_tensor_value_info('detection_scores', TensorProto.FLOAT, [1, 4]),
        helper.make_tensor_value_info('detection_classes', TensorProto.FLOAT, [1, 4]),
        helper.make_tensor_value_info('num_detections', TensorProto.FLOAT, [1]),
    ])


def make_ssd_customvision(folder):
    # Azure Custom Vision export: xyxy normalised boxes, 0-based int64 classes, no count.
    boxes = np.array([[
        [0.5, 0.25, 0.75, 0.5],      # class 0 (cat) 0.8
        [0.5, 0.25, 0.7, 0.5],       # class 0 0.7, IoU 0.8 with the first: suppressed
        [0.5, 0.25, 0.75, 0.5],      # class 2 (bird) 0.5: other class, kept
    ]], dtype=np.float32)
    scores = np.array([[0.8, 0.7, 0.5]], dtype=np.float32)
    classes = np.array([[0, 0, 2]], dtype=np.int64)
    nodes = (constant_output('detected_boxes', boxes) + constant_output('detected_scores', scores)
             + constant_output('detected_classes', classes))
    save(folder, 'ssd-customvision.onnx', nodes, [
        helper.make_tensor_value_info('detected_boxes', TensorProto.FLOAT, [1, 3, 4]),
        helper.make_tensor_value_info('detected_scores', TensorProto.FLOAT, [1, 3]),
        helper.make_tensor_value_info('detected_classes', TensorProto.INT64, [1, 3]),
    ])


def make_classifier(folder):
    # logits = per-channel mean of the input: the test picks the winning class by the image it feeds.
    nodes = [helper.make_node('ReduceMean', ['images'], ['logits'], axes=[2, 3], keepdims=0)]
    save(folder, 'classifier.onnx', nodes,
         [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 3])],
         inputs=[helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, 8, 8])])


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: make-test-models.py <output folder>\n')
        return 2
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for make in (make_yolov5, make_yolov8, make_ssd_tf, make_ssd_customvision, make_classifier):
        make(folder)
    print('\n'.join(sorted(f for f in os.listdir(folder) if f.endswith('.onnx'))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
