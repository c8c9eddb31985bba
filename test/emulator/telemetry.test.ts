// Telemetry from the real SDK arrives with its messageId, system and application properties,
// and is listed by the emulator, by the HTTP API (with ?since / ?after), and in messages.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { azureDevice, deviceClient, startTestHub } from '../helpers/emulator.js';
import { at } from '../helpers/at.js';

test('telemetry with properties and messageId is stored, listed and logged', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  try {
    await client.open();
    const before = new Date().toISOString();
    const m = new azureDevice.Message(JSON.stringify({ detections: [{ label: 'person', confidence: 0.9 }] }));
    m.messageId = 'boot1:1';
    m.contentType = 'application/json';
    m.contentEncoding = 'utf-8';
    m.correlationId = 'corr-1';
    m.properties.add('schema', 'percept/detections/1');
    m.properties.add('odd key&=', 'a value / with ?&= signs');
    await client.sendEvent(m);
    await client.sendEvent(new azureDevice.Message(Buffer.from([0xff, 0x00, 0x7f])));

    const all = h.hub.messages(h.deviceId);
    assert.equal(all.length, 2);
    const [first, second] = [at(all, 0), at(all, 1)];
    assert.equal(first.deviceId, h.deviceId);
    assert.equal(first.moduleId, null);
    assert.equal(first.messageId, 'boot1:1');
    assert.equal(first.systemProperties.contentType, 'application/json');
    assert.equal(first.systemProperties.contentEncoding, 'utf-8');
    assert.equal(first.systemProperties.correlationId, 'corr-1');
    assert.deepEqual(first.properties, { schema: 'percept/detections/1', 'odd key&=': 'a value / with ?&= signs' });
    assert.deepEqual(first.body, { detections: [{ label: 'person', confidence: 0.9 }] });
    assert.ok(first.enqueuedTime >= before);
    // bytes that are not JSON are kept exactly
    assert.deepEqual(Buffer.from(second.bodyBase64, 'base64'), Buffer.from([0xff, 0x00, 0x7f]));
    assert.equal(typeof second.body, 'string');

    const listed = (await (await fetch(`${h.api}/devices/${h.deviceId}/messages`)).json()) as typeof all;
    assert.deepEqual(listed, all);
    const after = (await (await fetch(`${h.api}/devices/${h.deviceId}/messages?after=${first.seq}`)).json()) as typeof all;
    assert.deepEqual(
      after.map((x) => x.seq),
      [second.seq],
    );
    const since = (await (await fetch(`${h.api}/devices/${h.deviceId}/messages?since=${encodeURIComponent(before)}`)).json()) as typeof all;
    assert.equal(since.length, 2);
    const bad = await fetch(`${h.api}/devices/${h.deviceId}/messages?since=yesterday`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BadRequest');

    const lines = fs
      .readFileSync(path.join(h.stateDir, 'messages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, all);
  } finally {
    await client.close();
    await h.close();
  }
});
