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
 * getEvents {since?, limit?}: recent track events, oldest first, within the 128 KB answer.
 *
 * - With `since` (ms or ISO 8601): a page forward from `since`: the oldest events with `at` >=
 *   since, at most `limit` (default 100, at most 1000). `truncated` says more remain, and `next`
 *   (just after the last event returned) is the `since` of the page that continues, so a caller
 *   paging with it sees every event once. A page never ends inside a group of events with the same
 *   `at` (one frame's), as the next page could not start inside it: it ends before the group, or
 *   holds the group whole when the group alone is over `limit`.
 * - Without `since`: the newest `limit` events (the older ones left out when the limit or the
 *   answer's size cuts the list, `truncated` then true); `next` is the `since` that continues
 *   after them.
 *
 * `next` is `since` (or null) when nothing is returned.
 */
export async function getEvents(reader: EventReader | null, payload: unknown): Promise<MethodResult> {
  const r = eventsPayload.safeParse(payload ?? null);
  if (!r.success) return usage('expected {"since"?: <ms since the epoch or an ISO 8601 time>, "limit"?: 1..1000}');
  if (!reader) return NO_EVENTS;
  const limit = r.data?.limit ?? 100;
  const since = r.data?.since;
  // By time, as `since` and `next` count (the store keeps them in the order they were sent).
  const found = reader
    .list(since !== undefined ? { since } : {})
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => eventView(e));
  const events = since !== undefined ? pageForward(found, limit) : pageNewest(found, limit);
  const lastAt = events.length ? Date.parse(events[events.length - 1]!.at) : null;
  return {
    status: 200,
    payload: { events, count: events.length, truncated: events.length < found.length, next: lastAt !== null ? lastAt + 1 : (since ?? null) },
  };
}

/** The bytes an event adds to the answer's list. */
const sizeOf = (e: EventView) => Buffer.byteLength(JSON.stringify(e)) + 1;
const BUDGET = METHOD_LIMIT - ENVELOPE;

/** The oldest events that fit `limit` and the answer, ending at a change of `at` when more remain. */
function pageForward(found: EventView[], limit: number): EventView[] {
  let n = 0;
  let bytes = 0;
  while (n < found.length && n < limit && bytes + sizeOf(found[n]!) <= BUDGET) bytes += sizeOf(found[n++]!);
  if (n === found.length || n === 0) return found.slice(0, n);
  const cutAt = found[n]!.at;
  if (found[n - 1]!.at !== cutAt) return found.slice(0, n);
  // The cut falls inside one frame's group: end before it, or take it whole when it is the first.
  let start = n - 1;
  while (start > 0 && found[start - 1]!.at === cutAt) start--;
  if (start > 0) return found.slice(0, start);
  // (Only a group over the 128 KB answer, some 200 events of one millisecond, is cut here.)
  while (n < found.length && found[n]!.at === cutAt && bytes + sizeOf(found[n]!) <= BUDGET) bytes += sizeOf(found[n++]!);
  return found.slice(0, n);
}

/** The newest `limit` events that fit the answer. */
function pageNewest(found: EventView[], limit: number): EventView[] {
  let n = 0;
  let bytes = 0;
  while (n < found.length && n < limit && bytes + sizeOf(found[found.length - 1 - n]!) <= BUDGET) bytes += sizeOf(found[found.length - 1 - n++]!);
  return found.slice(found.length - n);
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
