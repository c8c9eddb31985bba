// Who may call the service API: local programs (curl, the SDK's tests, `percept start`), never a
// web page. A DNS-rebinding page arrives under a foreign Host (421); a cross-site request carries
// a foreign Origin (403); a form or a `text/plain` fetch, the writes a page may send without
// asking first, is not `application/json` (415). No CORS header is ever sent, so no preflight passes.
import type http from 'node:http';
import { isLoopbackHostHeader } from '../loopback.js';
import { EmulatorError } from './errors.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/** Throws the EmulatorError that refuses the request, or returns when it may be served. */
export function admit(req: http.IncomingMessage): void {
  const host = req.headers.host;
  if (!isLoopbackHostHeader(host)) {
    throw new EmulatorError(
      'MisdirectedRequest',
      `This API answers to localhost, 127.0.0.1 and [::1] only, not to Host ${JSON.stringify(host)}: call http://127.0.0.1:<api-port>`,
    );
  }
  // Browsers send Origin on every cross-origin write (and programs send none): only the API's
  // own origin may pass, so a page cannot invoke a method with a body-less POST either.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    throw new EmulatorError('ForbiddenOrigin', `Requests from web pages (Origin ${JSON.stringify(origin)}) are refused: call the API from a local program`);
  }
  if (WRITES.has(req.method ?? '') && hasBody(req) && !isJson(req.headers['content-type'])) {
    throw new EmulatorError(
      'UnsupportedMediaType',
      `Expected a JSON body with Content-Type: application/json but received ${JSON.stringify(req.headers['content-type'] ?? 'none')}: ` +
        `send the header (curl --json '...' or -H 'content-type: application/json')`,
    );
  }
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(type: string | undefined): boolean {
  return type !== undefined && /^application\/json\s*(;|$)/i.test(type.trim());
}
