// Telemetry encoders: the percept schema (one JSON message per window and source), the
// Percept-compatible body azureeyemodule sent, and one message per track event
// (percept.event/1). Each kind carries its source's zone and line counts, so they reach the cloud
// whatever the mode and schema. A window whose message would pass IoT Hub's 256 KB limit is split
// by frames before encoding, so nothing is dropped for size.

import type { ClosedWindow, WindowFrame } from './window.js';
import type { LineCount, PerceptEvent, ZoneCount } from '../events/types.js';
import { eventView } from '../events/view.js';

export const SCHEMA_PERCEPT = 'percept.detections/1';
export const SCHEMA_COMPAT = 'azureeye.neural-network/1';
export const SCHEMA_EVENT = 'percept.event/1';
/** The `eventType` property of each kind of message (edgeHub and IoT Hub routes filter on it). */
export const EVENT_TYPE_WINDOW = 'detections';
export const EVENT_TYPE_EVENT = 'event';
export type TelemetrySchema = 'percept' | 'percept-compat';

/** IoT Hub's limit for one device-to-cloud message, body and properties together. */
export const HUB_MESSAGE_LIMIT = 256 * 1024;
/** Room kept for properties, the message id and the attestation properties. */
export const PROPERTY_RESERVE = 4 * 1024;

export interface OutgoingMessage {
  body: Buffer;
  contentType: 'application/json';
  contentEncoding: 'utf-8';
  /** Application properties, for routing. */
  properties: Record<string, string>;
}

export interface Identity {
  deviceId: string;
  moduleId?: string;
}

/** A source's zone and line counts since the agent started, carried by its window and event messages. */
export interface SourceTallies {
  zones: ZoneCount[];
  lines: LineCount[];
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** Zones and lines of one source, without the source (the message names it once); nothing when there are none. */
function talliesBody(t: SourceTallies | undefined): Record<string, unknown> {
  if (!t || (!t.zones.length && !t.lines.length)) return {};
  return {
    zones: t.zones.map((z) => ({ zone: z.zone, entered: z.entered, exited: z.exited, present: z.present })),
    lines: t.lines.map((l) => ({ line: l.line, forward: l.forward, backward: l.backward })),
  };
}

function perceptBody(w: ClosedWindow, frames: WindowFrame[], id: Identity, part?: { index: number; count: number }, tallies?: SourceTallies): Buffer {
  const counts: Record<string, number> = {};
  for (const f of frames) for (const d of f.detections) counts[d.label] = (counts[d.label] ?? 0) + 1;
  return Buffer.from(
    JSON.stringify({
      schema: SCHEMA_PERCEPT,
      deviceId: id.deviceId,
      ...(id.moduleId ? { moduleId: id.moduleId } : {}),
      source: { id: w.source, kind: w.sourceKind },
      model: w.model,
      window: { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString(), intervalMs: w.intervalMs, frames: frames.length },
      ...(part ? { part } : {}),
      counts,
      ...talliesBody(tallies),
      frames: frames.map((f) => ({
        seq: f.seq,
        capturedAt: new Date(f.capturedAt).toISOString(),
        width: f.width,
        height: f.height,
        detections: f.detections.map((d) => ({ label: d.label, confidence: r4(d.confidence), box: d.box.map(r1), boxNorm: d.boxNorm.map(r4) })),
      })),
    }),
    'utf8',
  );
}

/**
 * azureeyemodule's body: normalised [x0,y0,x1,y1], confidence as a string, timestamp in ns. A
 * source with zones or lines (which azureeyemodule never had) adds their counts beside it.
 */
function compatBody(frames: WindowFrame[], tallies?: SourceTallies): Buffer {
  const nn: Array<{ bbox: number[]; label: string; confidence: string; timestamp: string }> = [];
  for (const f of frames) {
    const ts = (BigInt(Math.round(f.capturedAt)) * 1_000_000n).toString();
    for (const d of f.detections)
      nn.push({ bbox: d.boxNorm.map((v) => Math.round(v * 1000) / 1000), label: d.label, confidence: String(d.confidence), timestamp: ts });
  }
  return Buffer.from(JSON.stringify({ NEURAL_NETWORK: nn, ...talliesBody(tallies) }), 'utf8');
}

/**
 * Encodes a window as one or more messages, each within the hub's limit. Percept-compat
 * windows with no detections send nothing, as azureeyemodule did not. `tallies`: the source's
 * zone and line counts (every part carries them).
 */
export function encodeWindow(
  w: ClosedWindow,
  schema: TelemetrySchema,
  id: Identity,
  limit = HUB_MESSAGE_LIMIT - PROPERTY_RESERVE,
  tallies?: SourceTallies,
): OutgoingMessage[] {
  const props = (extra: Record<string, string> = {}) => ({
    schema: schema === 'percept' ? SCHEMA_PERCEPT : SCHEMA_COMPAT,
    eventType: EVENT_TYPE_WINDOW,
    source: w.source,
    ...extra,
  });
  const msg = (body: Buffer, extra?: Record<string, string>): OutgoingMessage => ({
    body,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: props(extra),
  });
  if (schema === 'percept-compat') {
    if (!w.frames.some((f) => f.detections.length)) return [];
    const encode = (fs: WindowFrame[]) => compatBody(fs, tallies);
    return partition(w.frames, limit, encode).map((fs) => msg(encode(fs)));
  }
  const whole = perceptBody(w, w.frames, id, undefined, tallies);
  if (whole.length <= limit) return [msg(whole)];
  // Sized with two-digit part numbers, then encoded with the real ones (never longer).
  const groups = partition(w.frames, limit, (fs) => perceptBody(w, fs, id, { index: 99, count: 99 }, tallies));
  return groups.map((fs, i) => msg(perceptBody(w, fs, id, { index: i, count: groups.length }, tallies), { part: `${i + 1}/${groups.length}` }));
}

/**
 * One track event as one message (percept.event/1). Its properties name the schema, the
 * message kind (`eventType: event`, so routes and the link can tell it from windows), the
 * source, the event's type and its label. `tallies`: the source's zone and line counts as they
 * stand when the event is sent (`sourceCounts`, beside the track's own `zones`), so they reach
 * the cloud in `events` mode too. An event is a few hundred bytes (a few KB with 32 zones and
 * 32 lines): no split.
 */
export function encodeEvent(e: PerceptEvent, sourceKind: string, id: Identity, tallies?: SourceTallies): OutgoingMessage {
  const counts = talliesBody(tallies);
  const body = {
    schema: SCHEMA_EVENT,
    deviceId: id.deviceId,
    ...(id.moduleId ? { moduleId: id.moduleId } : {}),
    ...eventView(e),
    source: { id: e.source, kind: sourceKind },
    ...('zones' in counts ? { sourceCounts: counts } : {}),
  };
  return {
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: { schema: SCHEMA_EVENT, eventType: EVENT_TYPE_EVENT, source: e.source, type: e.type, label: e.label },
  };
}

/** Halves the frame list until every part encodes within the limit; a single frame's detections are halved too. */
function partition(frames: WindowFrame[], limit: number, encode: (fs: WindowFrame[]) => Buffer): WindowFrame[][] {
  const b = encode(frames);
  if (b.length <= limit) return [frames];
  if (frames.length === 1) {
    // One frame with more detections than fit: split its detections (lowest confidence last).
    const [f] = frames;
    if (f === undefined || f.detections.length <= 1) return [frames];
    const sorted = [...f.detections].sort((a, z) => z.confidence - a.confidence);
    const mid = Math.ceil(sorted.length / 2);
    return [...partition([{ ...f, detections: sorted.slice(0, mid) }], limit, encode), ...partition([{ ...f, detections: sorted.slice(mid) }], limit, encode)];
  }
  const mid = Math.ceil(frames.length / 2);
  return [...partition(frames.slice(0, mid), limit, encode), ...partition(frames.slice(mid), limit, encode)];
}
