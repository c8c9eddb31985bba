// Following a device's messages over HTTP: server-sent events by default, NDJSON on request,
// replaying from `?after=` and then delivering new messages as they arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureDevice, deviceClient, startTestHub } from '../helpers/emulator.js';

async function* lines(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}

test('messages/stream follows new messages as SSE and NDJSON', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  const abort = new AbortController();
  try {
    await client.open();
    await client.sendEvent(new azureDevice.Message('{"n":0}'));

    const sse = await fetch(`${h.api}/devices/${h.deviceId}/messages/stream?after=0`, { signal: abort.signal });
    assert.equal(sse.headers.get('content-type'), 'text/event-stream');
    const nd = await fetch(`${h.api}/devices/${h.deviceId}/messages/stream?format=ndjson`, { signal: abort.signal });
    assert.equal(nd.headers.get('content-type'), 'application/x-ndjson');

    await client.sendEvent(new azureDevice.Message('{"n":1}'));

    const seen: unknown[] = [];
    for await (const line of lines(sse)) {
      if (line.startsWith('data: ')) seen.push((JSON.parse(line.slice(6)) as { body: unknown }).body);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, [{ n: 0 }, { n: 1 }]); // replayed, then live
    for await (const line of lines(nd)) {
      if (line.trim() === '') continue;
      assert.deepEqual((JSON.parse(line) as { body: unknown }).body, { n: 1 }); // live only
      break;
    }
  } finally {
    abort.abort();
    await client.close();
    await h.close();
  }
});
