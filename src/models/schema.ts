// The zod schema of a model manifest, with the defaults a manifest may leave out.
// It only describes and checks the JSON; turning the parsed value into a ModelManifest and
// reporting errors happens in manifest.ts.

import { z } from 'zod';

const positiveInt = z.number().int().positive();
const name = z.string().min(1);
const unitInterval = z.number().min(0).max(1);

/** A number for all three channels, or one per channel (in the model's colour order). */
function perChannel(fallback: number, positive: boolean) {
  const one = positive ? z.number().positive() : z.number();
  const three = z.tuple([one, one, one]);
  return z
    .union([one, three])
    .default(fallback)
    .transform((v): [number, number, number] => (typeof v === 'number' ? [v, v, v] : v));
}

const input = z.strictObject({
  name,
  layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  width: positiveInt,
  height: positiveInt,
  colorOrder: z.enum(['RGB', 'BGR']).default('RGB'),
  scale: z.number().positive().default(1),
  mean: perChannel(0, false),
  std: perChannel(1, true),
  resize: z.enum(['letterbox', 'stretch']).default('letterbox'),
  padValue: z.number().min(0).max(255).default(114),
  align: z.enum(['topleft', 'center']).default('topleft'),
});

// `prefault` (not `default`) so an omitted block still gets its inner defaults.
function nms(iou: number, weighted: boolean) {
  return z
    .strictObject({
      iou: z.number().gt(0).max(1).default(iou),
      classAgnostic: z.boolean().default(false),
      weighted: z.boolean().default(weighted),
    })
    .prefault({});
}

const detection = {
  scoreThreshold: unitInterval.default(0.3),
  nms: nms(0.45, false),
  maxDetections: positiveInt.default(100),
};

const yolox = z.strictObject({
  type: z.literal('yolox'),
  output: name.optional(),
  strides: z.array(positiveInt).min(1).default([8, 16, 32]),
  ...detection,
});

const yolov5 = z.strictObject({ type: z.literal('yolov5'), output: name.optional(), ...detection });
const yolov8 = z.strictObject({ type: z.literal('yolov8'), output: name.optional(), ...detection });

const ssd = z.strictObject({
  type: z.literal('ssd'),
  boxes: name,
  scores: name,
  classes: name.optional(),
  count: name.optional(),
  boxFormat: z.enum(['yxyx', 'xyxy']).default('yxyx'),
  boxUnits: z.enum(['normalized', 'pixels']).default('normalized'),
  labelOffset: z.number().int().default(0),
  ...detection,
});

const blazeface = z.strictObject({
  type: z.literal('blazeface'),
  scores: z.array(name).min(1),
  boxes: z.array(name).min(1),
  strides: z.array(positiveInt).min(1),
  anchorsPerCell: z.array(positiveInt).min(1),
  scoreThreshold: unitInterval.default(0.5),
  nms: nms(0.3, true),
  maxDetections: positiveInt.default(100),
});

const classification = z.strictObject({
  type: z.literal('classification'),
  output: name.optional(),
  topK: positiveInt.default(5),
  softmax: z.boolean().default(false),
  scoreThreshold: unitInterval.default(0),
});

export const decoderSchema = z.discriminatedUnion('type', [yolox, yolov5, yolov8, ssd, blazeface, classification]);

export const manifestSchema = z.strictObject({
  /** Lets editors validate the file against a JSON schema; ignored here. */
  $schema: z.string().optional(),
  name,
  version: name.default('1'),
  description: z.string().optional(),
  file: name.optional(),
  labelsFile: name.optional(),
  input,
  outputs: z.array(name).min(1).optional(),
  labels: z.array(z.string()).optional(),
  decoder: decoderSchema,
});

export type ParsedManifest = z.output<typeof manifestSchema>;

/** Output names a decoder reads, in a stable order. */
export function decoderOutputNames(d: z.output<typeof decoderSchema>): string[] {
  switch (d.type) {
    case 'ssd':
      return [d.boxes, d.scores, d.classes, d.count].filter((n): n is string => n !== undefined);
    case 'blazeface':
      return [...d.scores, ...d.boxes];
    default:
      return d.output === undefined ? [] : [d.output];
  }
}
