// Types shared across the layers: what a frame is and what a detection is.

/**
 * Encoded (`jpeg`, `png`, `encoded`) or raw, rows packed without padding: `rgb24`, `yuyv`
 * (4:2:2, Y0 U Y1 V), `nv12` (the Y plane, then interleaved UV at half height).
 */
export type FrameFormat = 'jpeg' | 'png' | 'rgb24' | 'yuyv' | 'nv12' | 'encoded';

export interface Frame {
  /** Id of the source that produced the frame (from config). */
  source: string;
  /** 1-based sequence number within the source's life. */
  seq: number;
  /** Capture time, milliseconds since the epoch. */
  capturedAt: number;
  /** Pixel size; 0 when the frame is still encoded and the size is not yet known. Raw frames
   * always carry it, and their rows are `width` pixels without padding. */
  width: number;
  height: number;
  format: FrameFormat;
  data: Buffer;
  /** Where the frame came from (file path or URI), for output and logs. */
  origin?: string;
  /**
   * Takes the memory of `data` back (its whole ArrayBuffer, which may be larger than the frame)
   * once nothing reads it any more, for a later frame to be written into: the native camera's
   * frames have it, and the inference pool hands their memory back when the worker is done.
   */
  release?: (memory: ArrayBuffer) => void;
}

/** Box as [x0, y0, x1, y1]. */
export type Box = [number, number, number, number];

export interface Detection {
  label: string;
  classId: number;
  confidence: number;
  /** In source-image pixels. */
  box: Box;
  /** Normalised to the source image, 0..1. */
  boxNorm: Box;
  /** Optional key points in source pixels (BlazeFace). */
  keypoints?: Array<[number, number]>;
}
