// The direct methods the agent answers: getStatus, restartPipeline, setLogLevel, snapshot and
// attest. Each validates its payload at the edge and answers within IoT Hub's 128 KB limit;
// a bad payload is a 400 with a typed code, never an exception into the SDK.

import { z } from 'zod';
import type { Agent } from './agent.js';
import type { HubLink, MethodResult } from '../hub/link.js';
import { drawDetections, nextFrame } from '../pipeline/snapshot.js';
import { attestMethod } from './attest-method.js';

/** IoT Hub's limit on a method's answer. */
const METHOD_LIMIT = 128 * 1024;

export function registerMethods(link: HubLink, agent: Agent): void {
  link.onMethod('getStatus', async () => ({ status: 200, payload: agent.status() }));
  link.onMethod('restartPipeline', async () => {
    if (!agent.pipeline) return { status: 503, payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running (yet); try again shortly' } } };
    await agent.restartPipeline();
    return { status: 200, payload: { restarted: true } };
  });
  link.onMethod('setLogLevel', async (payload) => setLogLevel(agent, payload));
  link.onMethod('snapshot', async (payload) => snapshot(agent, payload));
  link.onMethod('attest', async (payload) => attestMethod(agent.signer, payload));
}

async function setLogLevel(agent: Agent, payload: unknown): Promise<MethodResult> {
  const r = z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).safeParse(payload);
  if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"level": "fatal|error|warn|info|debug|trace|silent"}' } } };
  const previous = agent.logger.level;
  agent.logger.level = r.data.level;
  return { status: 200, payload: { level: r.data.level, previous } };
}

async function snapshot(agent: Agent, payload: unknown): Promise<MethodResult> {
  const r = z.strictObject({ source: z.string().optional(), timeoutMs: z.number().int().min(100).max(20_000).optional() }).nullable().safeParse(payload ?? null);
  if (!r.success) return { status: 400, payload: { error: { code: 'ERR_USAGE', message: 'expected {"source"?: "<id>", "timeoutMs"?: 100..20000}' } } };
  const pipeline = agent.pipeline;
  if (!pipeline) return { status: 503, payload: { error: { code: 'ERR_SOURCE_FAILED', message: 'the pipeline is not running' } } };
  const want = r.data?.source;
  const known = pipeline.status().sources.map((x) => x.id);
  if (want !== undefined && !known.includes(want)) {
    return { status: 404, payload: { error: { code: 'ERR_USAGE', message: `no source '${want}'; sources: ${known.join(', ')}` } } };
  }
  const frame = await nextFrame(pipeline, want, r.data?.timeoutMs ?? 5000);
  if (!frame) return { status: 504, payload: { error: { code: 'ERR_SOURCE_FAILED', message: `no frame${want ? ` from source '${want}'` : ''} arrived in time` } } };
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
