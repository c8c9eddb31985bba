// Messages between the pool (main thread) and its workers. Plain data only: frames travel
// as transferred ArrayBuffers, errors as {code, message}.

import type { ModelManifest } from '../models/types.js';
import type { Detection, FrameFormat } from '../types.js';
import type { ErrorCode } from '../errors.js';

export interface WorkerInit {
  manifest: ModelManifest;
  modelPath: string;
  providers: string[];
  threads: number;
  /**
   * Lets tests make a worker throw or exit on demand (a job's `fault`), or, with `exitAfterMs`,
   * exit that long after it becomes ready, holding a job or not.
   */
  faultInjection: WorkerFaults;
}

/** Test-only faults, set by the code that builds the pool (never by configuration or the twin). */
export type WorkerFaults = boolean | { exitAfterMs: number };

export interface JobMessage {
  type: 'job';
  id: number;
  format: FrameFormat;
  width: number;
  height: number;
  /** The frame's bytes: the first `length` of them when set, else all. */
  data: ArrayBuffer;
  length?: number;
  /** Send `data` back with the result: its source writes later frames into it (Frame.release). */
  returnData?: boolean;
  /** Live threshold overrides (twin changes) without restarting the worker. */
  thresholds?: Thresholds;
  /** Tests only (with faultInjection): make this job crash the worker. */
  fault?: 'throw' | 'exit';
}

export interface Thresholds {
  scoreThreshold?: number;
  iou?: number;
}

export interface Timings {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; provider: string; fallbacks: string[]; inputNames: string[]; outputNames: string[] }
  | { type: 'startError'; error: { code: ErrorCode; message: string } }
  | { type: 'result'; id: number; width: number; height: number; detections: Detection[]; timings: Timings; data?: ArrayBuffer }
  | { type: 'jobError'; id: number; error: { code: ErrorCode; message: string }; data?: ArrayBuffer };
