// The frame fan-out: Server-Sent Events (JPEG as base64 with its detections and tracks,
// status ticks, track events) for the page, and multipart MJPEG for plain HTTP clients. It asks to be fed frames
// only while a client is connected, caps each source at maxFps, skips frames for a client
// whose socket is still full rather than queueing them, and evicts one that stays full.

import type { ServerResponse } from 'node:http';
import type { TappedFrame } from '../pipeline/pipeline.js';
import type { Logger } from '../log.js';
import { toJpeg } from './transcode.js';
import type { TrackView } from '../events/types.js';

const BOUNDARY = 'perceptframe';

/** A client whose socket has not drained for this long has stopped reading: its slot is freed. */
export const STALL_MS = 5000;

interface Client {
  kind: 'sse' | 'mjpeg';
  res: ServerResponse;
  /** Only frames of this source (MJPEG carries one picture stream); null = all. */
  source: string | null;
  /** When a write last found the socket full, until it drains; null while it keeps up. */
  stalledSince: number | null;
}

export interface FrameHubOptions {
  maxFps: number;
  maxClients: number;
  logger: Logger;
  /** Called with true when the first client arrives and false when the last leaves. */
  onActive: (active: boolean) => void;
  /** The status event sent to SSE clients on connect and every second. */
  statusMessage: () => unknown;
  statusEveryMs?: number;
  /** Evict a client whose socket stays full this long (default STALL_MS). */
  stallMs?: number;
}

export class FrameHub {
  readonly #o: FrameHubOptions;
  readonly #clients = new Set<Client>();
  readonly #interval: number;
  readonly #next = new Map<string, number>();
  readonly #encoding = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #sent = 0;
  #skipped = 0;

  constructor(o: FrameHubOptions) {
    this.#o = o;
    this.#interval = 1000 / o.maxFps;
  }

  get clients(): number {
    return this.#clients.size;
  }

  get stats(): { sent: number; skipped: number } {
    return { sent: this.#sent, skipped: this.#skipped };
  }

  get full(): boolean {
    return this.#clients.size >= this.#o.maxClients;
  }

  addSse(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    // Reconnect quickly after an agent restart; the first status fills the page at once.
    res.write(`retry: 2000\n\n`);
    const c: Client = { kind: 'sse', res, source: null, stalledSince: null };
    this.#add(c);
    this.#writeStatus(c);
  }

  addMjpeg(res: ServerResponse, source: string | null): void {
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-store' });
    // Answer at once: a client should not wait for the first picture to learn it is accepted.
    res.flushHeaders();
    this.#add({ kind: 'mjpeg', res, source, stalledSince: null });
  }

  #add(c: Client): void {
    c.res.socket?.setNoDelay(true);
    this.#clients.add(c);
    c.res.on('close', () => this.#remove(c));
    // A write racing a hang-up must not become an unhandled 'error' event.
    c.res.on('error', () => this.#remove(c));
    c.res.on('drain', () => (c.stalledSince = null));
    this.#o.logger.debug({ kind: c.kind, clients: this.#clients.size }, 'preview client connected');
    if (this.#clients.size === 1) {
      this.#o.onActive(true);
      this.#timer = setInterval(() => this.#tick(), this.#o.statusEveryMs ?? 1000);
      this.#timer.unref();
    }
  }

  #remove(c: Client): void {
    if (!this.#clients.delete(c)) return;
    this.#o.logger.debug({ kind: c.kind, clients: this.#clients.size }, 'preview client left');
    if (this.#clients.size === 0) {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      this.#next.clear();
      this.#o.onActive(false);
    }
  }

  #tick(): void {
    this.#evictStalled();
    for (const c of this.#clients) if (c.kind === 'sse' && writable(c.res)) this.#writeStatus(c);
  }

  /**
   * Sixteen viewers that stop reading would otherwise hold every slot for as long as their
   * connections live; skipping their frames keeps memory flat but not the slots free.
   */
  #evictStalled(): void {
    const limit = this.#o.stallMs ?? STALL_MS;
    const now = performance.now();
    for (const c of [...this.#clients]) {
      if (c.stalledSince === null || now - c.stalledSince < limit) continue;
      this.#o.logger.info({ kind: c.kind, stalledMs: Math.round(now - c.stalledSince) }, 'preview client stopped reading: disconnected');
      this.#remove(c);
      c.res.destroy();
    }
  }

  /** Writes, noting when the socket is left full so a client that never drains can be evicted. */
  #write(c: Client, chunk: string | Buffer): void {
    if (!c.res.write(chunk)) c.stalledSince ??= performance.now();
  }

  #writeStatus(c: Client): void {
    let msg: string;
    try {
      msg = `event: status\ndata: ${JSON.stringify(this.#o.statusMessage())}\n\n`;
    } catch (e) {
      this.#o.logger.warn({ err: (e as Error).message }, 'preview: status snapshot failed');
      return;
    }
    this.#write(c, msg);
  }

  /** A named SSE event (a track event, say) to every page that keeps up; a page that is behind misses it. */
  broadcast(event: string, data: unknown): void {
    let msg: string | null = null;
    for (const c of this.#clients) {
      if (c.kind !== 'sse' || !writable(c.res)) continue;
      msg ??= `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      this.#write(c, msg);
    }
  }

  /** A tapped frame from the pipeline: dropped unless its source is due for a picture. */
  push(f: TappedFrame): void {
    // This runs inside the pipeline's result handling: whatever happens here stays here.
    try {
      this.#push(f);
    } catch (e) {
      this.#o.logger.warn({ err: (e as Error).message }, 'preview: frame not shown');
    }
  }

  #push(f: TappedFrame): void {
    if (this.#clients.size === 0) return;
    const src = f.result.source;
    const now = performance.now();
    const due = this.#next.get(src) ?? 0;
    // A quarter interval of slack keeps a source at exactly maxFps from losing every other
    // frame to jitter; `due` advances by a full interval per frame, so the average holds.
    if (now < due - this.#interval / 4 || this.#encoding.has(src)) return;
    this.#next.set(src, Math.max(due + this.#interval, now + this.#interval / 2));
    if (f.format === 'jpeg') {
      this.#send(f, f.data);
      return;
    }
    this.#encoding.add(src);
    toJpeg(f)
      .then((jpeg) => this.#send(f, jpeg))
      .catch((e: unknown) => this.#o.logger.debug({ source: src, format: f.format, err: (e as Error).message }, 'preview transcode failed'))
      .finally(() => this.#encoding.delete(src));
  }

  #send(f: TappedFrame, jpeg: Buffer): void {
    const r = f.result;
    let sse: string | null = null;
    let head: Buffer | null = null;
    for (const c of this.#clients) {
      if (c.source !== null && c.source !== r.source) continue;
      if (!writable(c.res)) {
        this.#skipped++;
        continue;
      }
      if (c.kind === 'sse') {
        sse ??= `event: frame\ndata: ${JSON.stringify(frameMessage(f, jpeg))}\n\n`;
        this.#write(c, sse);
      } else {
        head ??= Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
        this.#write(c, head);
        this.#write(c, jpeg);
        this.#write(c, '\r\n');
      }
      this.#sent++;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of [...this.#clients]) {
      this.#remove(c);
      c.res.destroy();
    }
  }
}

/** Open and not backed up: a full socket skips pictures instead of queueing them. */
function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded && !res.writableNeedDrain;
}

const r4 = (n: number) => Math.round(n * 1e4) / 1e4;

function frameMessage(f: TappedFrame, jpeg: Buffer) {
  // Tracks ride on results once the pipeline tracks objects.
  const r = f.result as TappedFrame['result'] & { tracks?: TrackView[] };
  return {
    source: r.source,
    seq: r.seq,
    capturedAt: r.capturedAt,
    width: r.width,
    height: r.height,
    latencyMs: Math.round(r.timings.totalMs * 10) / 10,
    model: { name: f.model.manifest.name, version: f.model.manifest.version },
    detections: r.detections.map((d) => ({ label: d.label, confidence: Math.round(d.confidence * 1000) / 1000, box: d.boxNorm.map(r4) })),
    tracks: (r.tracks ?? []).map((t) => ({
      id: t.id,
      label: t.label,
      score: Math.round(t.score * 1000) / 1000,
      box: t.box.map(r4),
      state: t.state,
      seen: t.seen,
    })),
    jpeg: jpeg.toString('base64'),
  };
}
