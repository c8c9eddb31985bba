// Direct methods on an SDK client: registers a handler under the name the client type uses,
// parses the JSON payload, and answers with the handler's status, or 500 with a typed error.

import type { Client, ModuleClient } from './sdk.js';
import { PerceptError } from '../errors.js';

export interface MethodResult {
  status: number;
  payload: unknown;
}
export type MethodHandler = (payload: unknown) => Promise<MethodResult>;

export function registerMethod(client: Client | ModuleClient, isModule: boolean, name: string, handler: MethodHandler): void {
  // Device clients call it onDeviceMethod, module clients onMethod.
  type Register = (n: string, cb: (req: { payload: unknown }, res: { send(s: number, p: unknown, done: () => void): void }) => void) => void;
  const c = client as unknown as { onMethod?: Register; onDeviceMethod?: Register };
  const register = (isModule ? c.onMethod : c.onDeviceMethod)?.bind(client);
  if (!register) throw new PerceptError('ERR_HUB', 'the SDK client cannot register direct methods');
  register(name, (req, res) => {
    let payload: unknown = req.payload;
    if (Buffer.isBuffer(payload)) payload = payload.length ? JSON.parse(payload.toString('utf8')) : null;
    handler(payload).then(
      (r) => res.send(r.status, r.payload, () => undefined),
      (e: unknown) => res.send(500, { error: { code: (e as PerceptError).code ?? 'ERR_INTERNAL', message: (e as Error).message } }, () => undefined),
    );
  });
}
