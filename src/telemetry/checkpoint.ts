// The standalone checkpoint: a small message that exists only to carry a signature when no
// telemetry flows for a checkpoint interval, and at shutdown. Normally signatures ride on
// telemetry messages, so attestation adds no messages (IoT Hub bills per message).

import type { Identity, OutgoingMessage } from './encode.js';

export const CHECKPOINT_SCHEMA = 'percept.checkpoint/1';

export function checkpointMessage(id: Identity, at = Date.now()): OutgoingMessage {
  return {
    body: Buffer.from(
      JSON.stringify({ schema: CHECKPOINT_SCHEMA, deviceId: id.deviceId, ...(id.moduleId ? { moduleId: id.moduleId } : {}), at: new Date(at).toISOString() }),
      'utf8',
    ),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    properties: { schema: CHECKPOINT_SCHEMA, eventType: 'checkpoint' },
  };
}
