// Where percept keeps things when not told otherwise: one place per user, the same for every
// command (`run`, `start`, `hub`, `doctor`, `keys`), so state never depends on the current folder.
import os from 'node:os';
import path from 'node:path';

/** The agent's state: outbox, saved twin configuration, software signing key, lock. */
export const DEFAULT_STATE_DIR = path.join(os.homedir(), '.percept', 'state');
/** The local IoT Hub emulator's state: CA, registry, twins, received messages. */
export const DEFAULT_HUB_STATE_DIR = path.join(os.homedir(), '.percept', 'hub');
/** The device `percept hub` and `percept start` register when given none. */
export const DEFAULT_DEVICE_ID = 'percept';
