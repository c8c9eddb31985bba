// Hostile JSON at the emulator: documents nested thousands of levels deep are a 400 from the
// API (not a 500 stack overflow) and kept as text when a device sends them; a twin key
// `__proto__` is refused with a 400 naming it, at any depth, and the twin is left unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureDevice, deviceClient, JSON_HEADERS, startTestHub } from '../helpers/emulator.js';
import { at } from '../helpers/at.js';

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

async function call(url: string, method: string, body: string): Promise<{ status: number; error?: { code: string; message: string } }> {
  const res = await fetch(url, { method, headers: JSON_HEADERS, body });
  const json = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, error: json.error };
}

test('deeply nested JSON is a 400 from the API and text when a device sends it', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca, { retry: false });
  try {
    const twin = `${h.api}/devices/${h.deviceId}/twin/desired`;
    for (const [url, method, body] of [
      [twin, 'PATCH', `{"a":${deep(100_000)}}`],
      [`${h.api}/devices/${h.deviceId}/methods/ping`, 'POST', `{"payload":${deep(100_000)}}`],
      [`${h.api}/devices`, 'POST', deep(100_000)],
      [`${h.api}/devices/${h.deviceId}/c2d`, 'POST', `{"body":${deep(65)}}`],
    ] as const) {
      const r = await call(url, method, body);
      assert.equal(r.status, 400, `${method} ${url}: ${JSON.stringify(r.error)}`);
      assert.equal(r.error?.code, 'BadRequest');
      assert.match(r.error?.message ?? '', /nests .*deeper than 64 levels/);
    }
    // a twin's own limit (10 levels) also holds for arrays, which used to be recursed without one
    const arrays = await call(twin, 'PATCH', `{"a":${deep(20)}}`);
    assert.equal(arrays.status, 400);
    assert.match(arrays.error?.message ?? '', /nests deeper than 10 levels/);
    // within the bounds all is as before; a bracket inside a string is not nesting
    assert.equal((await call(twin, 'PATCH', `{"a":${deep(9)},"s":"${'['.repeat(200)}"}`)).status, 200);

    await client.open();
    const body = deep(100_000);
    await client.sendEvent(new azureDevice.Message(body));
    const m = at(await h.hub.waitForMessages(1, { deviceId: h.deviceId }), 0);
    assert.equal(m.body, body, 'kept as the text it was');
    assert.equal(h.hub.isConnected(h.deviceId), true);
  } finally {
    await client.close();
    await h.close();
  }
});

test('a twin key __proto__ is refused with a 400 naming it', { timeout: 10_000 }, async () => {
  const h = await startTestHub();
  try {
    const twin = `${h.api}/devices/${h.deviceId}/twin/desired`;
    for (const body of ['{"__proto__":{"polluted":true},"ok":1}', '{"ok":1,"a":{"b":{"__proto__":{"polluted":true}}}}', '{"ok":1,"list":[{"__proto__":1}]}']) {
      const r = await call(twin, 'PATCH', body);
      assert.equal(r.status, 400, body);
      assert.equal(r.error?.code, 'BadRequest');
      assert.match(r.error?.message ?? '', /key "__proto__" is not allowed/);
    }
    const doc = h.hub.twin(h.deviceId);
    assert.deepEqual(doc.desired, { $version: 1 }, 'no refused patch applied any part');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  } finally {
    await h.close();
  }
});
