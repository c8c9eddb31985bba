// Who may use the preview: loopback binds are open to local clients (with a Host check so a
// DNS-rebinding page cannot read the camera), any other bind needs the token, compared in
// constant time. Refusals are logged without the token and rate-limited so a scanner cannot
// flood the log.

import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';
import { isLoopbackHostHeader } from '../loopback.js';

/** A token for a non-loopback bind when the configuration gives none. */
export function generateToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/** The token a request carries: `Authorization: Bearer` first, then `?token=`. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m?.[1] !== undefined) return m[1];
  }
  return url.searchParams.get('token');
}

export type AuthDecision = { ok: true } | { ok: false; status: 401 | 421; reason: string };

export class Gate {
  readonly #expected: Buffer | null;
  readonly #loopback: boolean;
  readonly #log: Logger;
  #lastWarn = 0;
  #suppressed = 0;

  constructor(opts: { token?: string; loopback: boolean; logger: Logger }) {
    // Hashing both sides first gives equal-length buffers, so timingSafeEqual also hides the length.
    this.#expected = opts.token ? digest(opts.token) : null;
    this.#loopback = opts.loopback;
    this.#log = opts.logger;
  }

  check(req: IncomingMessage, url: URL, open: boolean): AuthDecision {
    if (open) return { ok: true };
    if (this.#expected) {
      const got = presentedToken(req, url);
      if (got !== null && crypto.timingSafeEqual(digest(got), this.#expected)) return { ok: true };
      this.#refused(req, url, got === null ? 'no token' : 'wrong token');
      return { ok: false, status: 401, reason: 'a token is required: pass ?token=<token> or the header "Authorization: Bearer <token>"' };
    }
    // Tokenless service is only offered on loopback; a foreign Host header there means a
    // browser was pointed at us through someone else's DNS name.
    if (this.#loopback && !isLoopbackHostHeader(req.headers.host)) {
      this.#refused(req, url, 'foreign Host header');
      return { ok: false, status: 421, reason: 'this preview answers to localhost names only' };
    }
    return { ok: true };
  }

  #refused(req: IncomingMessage, url: URL, why: string): void {
    const now = Date.now();
    if (now - this.#lastWarn < 10_000) {
      this.#suppressed++;
      return;
    }
    this.#lastWarn = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    // The path only: the query may hold the (wrong) token.
    this.#log.warn({ remote: req.socket.remoteAddress, path: url.pathname, why, suppressed: suppressed || undefined }, 'preview request refused');
  }
}
