// The direct methods the agent answers: getStatus, restartPipeline, setLogLevel, snapshot,
// getEvents, getEventSnapshot and attest. Each validates its payload at the edge and answers within IoT Hub's 128 KB limit;
// a bad payload is a 400 with a typed code, never an exception into the SDK.

import { z } from 'zod';
import sharp from 'sharp';
import type { Agent } from './agent.js';
import type { EventReader } from '../events/types.js';
import { eventView, type EventView } from '../events/view.js';
import { eventFeed } from './events.js';
import type { HubLink, MethodResult } from '../hub/link.js';
import { drawDetections, nextFrame } from '../pipeline/snapshot.js';
import { attestMethod } from './attest-method.js';

/** IoT Hub's limit on a method's answer. */
export const METHOD_LIMIT = 128 * 1024;
/** Room for the JSON around a list or a base64 picture. */
const ENVELOPE = 4096;

export function registerMethods(link: HubLink, agent: Agent): void {
  link.onMethod('getStatus', async () => ({ status: 200, payload: agent.status() }));
  link.onMethod('restartPipeline', async () => {
    if (!agent.pipeline)
      return { status: 503, payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running (yet); try again shortly' } } };
    await agent.restartPipeline();
    return { status: 200, payload: { restarted: true } };
  });
  link.onMethod('setLogLevel', async (payload) => setLogLevel(agent, payload));
  link.onMethod('snapshot', async (payload) => snapshot(agent, payload));
  link.onMethod('getEvents', async (payload) => getEvents(eventFeed(agent.pipeline)?.events ?? null, payload));
  link.onMethod('getEventSnapshot', async (payload) => getEventSnapshot(eventFeed(agent.pipeline)?.events ?? null, payload));
  link.onMethod('attest', async (payload) => attestMethod(agent.signer, payload));
}

const usage = (message: string): MethodResult => ({ status: 400, payload: { error: { code: 'ERR_USAGE', message } } });
const NO_EVENTS: MethodResult = {
  status: 503,
  payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running or keeps no events (yet); try again shortly' } },
};

/** ms since the epoch, or an ISO 8601 time. */
const when = z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((t) => Date.parse(t))]);
const eventsPayload = z.strictObject({ since: when.optional(), limit: z.number().int().min(1).max(1000).optional() }).nullable();

/**
 * getEvents {since?, limit?}: the recent track events with `at` >= since (ms or ISO 8601),
 * oldest first, at most `limit` (default 100, at most 1000); the newest are kept when the list
 * is cut by the limit or by the 128 KB answer, and `truncated` says so. `next` is the `since`
 * that continues after the last event returned.
 */
export async function getEvents(reader: EventReader | null, payload: unknown): Promise<MethodResult> {
  const r = eventsPayload.safeParse(payload ?? null);
  if (!r.success) return usage('expected {"since"?: <ms since the epoch or an ISO 8601 time>, "limit"?: 1..1000}');
  if (!reader) return NO_EVENTS;
  const limit = r.data?.limit ?? 100;
  const since = r.data?.since;
  // One more than asked tells whether the limit cut the list.
  const found = reader.list({ ...(since !== undefined ? { since } : {}), limit: limit + 1 });
  let truncated = found.length > limit;
  const events: EventView[] = found.slice(truncated ? 1 : 0).map(eventView);
  let bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 1, 0);
  while (events.length && bytes > METHOD_LIMIT - ENVELOPE) {
    bytes -= Buffer.byteLength(JSON.stringify(events.shift())) + 1;
    truncated = true;
  }
  const last = found.at(-1);
  return { status: 200, payload: { events, count: events.length, truncated, next: last ? last.at + 1 : (since ?? null) } };
}

const snapshotPayload = z.strictObject({ id: z.string().min(1).max(256) });

/**
 * getEventSnapshot {id}: the best snapshot of a track as a base64 JPEG, with the time, score
 * and box of that frame; re-encoded smaller when it would not fit the 128 KB answer.
 */
export async function getEventSnapshot(reader: EventReader | null, payload: unknown): Promise<MethodResult> {
  const r = snapshotPayload.safeParse(payload);
  if (!r.success) return usage('expected {"id": "<track id>"} (the id of a track event, from getEvents or telemetry)');
  if (!reader) return NO_EVENTS;
  const id = r.data.id;
  const jpeg = await reader.snapshot(id);
  if (!jpeg)
    return { status: 404, payload: { error: { code: 'ERR_USAGE', message: `no snapshot for track '${id}' (unknown, never snapshotted, or expired)` } } };
  const fitted = await fitJpeg(jpeg, Math.floor(((METHOD_LIMIT - ENVELOPE) * 3) / 4));
  // The snapshot's frame, from the newest event of the track that names it.
  const ev = reader
    .list()
    .filter((e) => e.id === id && e.snapshot)
    .at(-1);
  const v = ev ? eventView(ev) : null;
  return {
    status: 200,
    payload: {
      id,
      ...(v ? { label: v.label, source: v.source, at: v.snapshot?.at, score: v.snapshot?.score, box: v.snapshot?.box } : {}),
      width: fitted.width,
      height: fitted.height,
      contentType: 'image/jpeg',
      image: fitted.jpeg.toString('base64'),
    },
  };
}

/** The JPEG as it is when it fits `maxBytes`, else scaled down until it does. */
async function fitJpeg(jpeg: Buffer, maxBytes: number): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const meta = await sharp(jpeg).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (jpeg.length <= maxBytes) return { jpeg, width, height };
  for (let scale = 0.8; ; scale *= 0.8) {
    const w = Math.max(16, Math.round(width * scale));
    const h = Math.max(16, Math.round(height * scale));
    const out = await sharp(jpeg).resize(w, h, { fit: 'fill' }).jpeg({ quality: 70 }).toBuffer();
    if (out.length <= maxBytes || w === 16) return { jpeg: out, width: w, height: h };
  }
}

async function setLogLevel(agent: Agent, payload: unknown): Promise<MethodResult> {
  const r = z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).safeParse(payload);
  if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"level": "fatal|error|warn|info|debug|trace|silent"}' } } };
  const previous = agent.logger.level;
  agent.logger.level = r.data.level;
  return { status: 200, payload: { level: r.data.level, previous } };
}

async function snapshot(agent: Agent, payload: unknown): Promise<MethodResult> {
  const r = z
    .strictObject({ source: z.string().optional(), timeoutMs: z.number().int().min(100).max(20_000).optional() })
    .nullable()
    .safeParse(payload ?? null);
  if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"source"?: "<id>", "timeoutMs"?: 100..20000}' } } };
  const pipeline = agent.pipeline;
  if (!pipeline) return { status: 503, payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running' } } };
  const want = r.data?.source;
  const known = pipeline.status().sources.map((x) => x.id);
  if (want !== undefined && !known.includes(want)) {
    return { status: 404, payload: { error: { code: 'ERR_USAGE', message: `no source '${want}'; sources: ${known.join(', ')}` } } };
  }
  const frame = await nextFrame(pipeline, want, r.data?.timeoutMs ?? 5000);
  if (!frame)
    return { status: 504, payload: { error: { code: 'ERR_SOURCE_FAILED', message: `no frame${want ? ` from source '${want}'` : ''} arrived in time` } } };
  // Leave room for the JSON around the base64 text.
  const { jpeg, width, height } = await drawDetections(frame.data, frame.result.detections, Math.floor(((METHOD_LIMIT - 4096) * 3) / 4));
  return {
    status: 200,
    payload: {
      source: frame.result.source,
      seq: frame.result.seq,
      capturedAt: new Date(frame.result.capturedAt).toISOString(),
      width,
      height,
      detections: frame.result.detections.map((d) => ({ label: d.label, confidence: Math.round(d.confidence * 1e4) / 1e4, box: d.box.map(Math.round) })),
      contentType: 'image/jpeg',
      image: jpeg.toString('base64'),
    },
  };
}
