// One connection of the hub link: its SDK client, its number, its token's expiry, the sends
// in flight on it, and a promise that fails them all at once the moment it is lost (the SDK
// may never settle a send whose connection died).

import type { Client, ModuleClient } from './sdk.js';
import { PerceptError } from '../errors.js';

export class Connection {
  readonly client: Client | ModuleClient;
  readonly epoch: number;
  readonly connectedAt = Date.now();
  /** When the hub will close it (token expiry), or null when the token does not expire on our watch. */
  readonly expiresAt: number | null;
  inflight = 0;
  #dead = false;
  readonly #lost: Promise<never>;
  #fail: (e: Error) => void = () => undefined;

  constructor(client: Client | ModuleClient, epoch: number, expiresAt: number | null) {
    this.client = client;
    this.epoch = epoch;
    this.expiresAt = expiresAt;
    this.#lost = new Promise<never>((_, reject) => (this.#fail = reject));
    this.#lost.catch(() => undefined);
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Fails every send in flight on this connection with ERR_HUB_OFFLINE. */
  kill(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#fail(new PerceptError('ERR_HUB_OFFLINE', `the hub connection was lost: ${reason}`));
  }

  /**
   * Runs one send on this connection: resolves on the hub's acknowledgement, rejects with
   * ERR_HUB_TIMEOUT after `timeoutMs`, or ERR_HUB_OFFLINE when the connection goes first.
   */
  async send(sending: Promise<unknown>, timeoutMs: number): Promise<void> {
    this.inflight++;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PerceptError('ERR_HUB_TIMEOUT', `no acknowledgement within ${timeoutMs} ms`)), timeoutMs);
    });
    // The SDK's own failures (NotConnectedError and kin) mean the connection is unusable.
    const sdk = sending.then(
      () => undefined,
      (e: Error) => {
        throw new PerceptError('ERR_HUB_OFFLINE', `send failed: ${e.message}`, { cause: e });
      },
    );
    try {
      await Promise.race([sdk, deadline, this.#lost]);
    } finally {
      clearTimeout(timer);
      this.inflight--;
    }
  }
}
