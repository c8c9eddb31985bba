// The service API serves local programs only: a foreign Host (DNS rebinding) is 421, a foreign
// Origin (a cross-site page) 403, a write whose body is not JSON (a form, a text/plain fetch)
// 415, and no answer carries a CORS header; curl-like JSON calls on loopback still work.
import http from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceClient, FILTERS, startTestHub, waitForSubscription } from '../helpers/emulator.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request with headers fetch would not let a test set (Host), as curl or a browser sends them. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function noCors(a: Answer): void {
  const cors = Object.keys(a.headers).filter((k) => k.startsWith('access-control-'));
  assert.deepEqual(cors, [], `CORS headers sent: ${cors.join(', ')}`);
}

test('a rebound name, a cross-site page and a non-JSON write are refused; local JSON calls are served', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const client = await deviceClient(h.connectionString, h.ca);
  let snapshots = 0;
  try {
    await client.open();
    client.onDeviceMethod('snapshot', (_req, res) => {
      snapshots++;
      void res.send(200, { jpeg: 'secret-frame' });
    });
    await waitForSubscription(h.hub, FILTERS.methods, h.deviceId);
    const port = h.hub.apiPort;
    const snapshot = `/devices/${h.deviceId}/methods/snapshot`;
    const json = { 'content-type': 'application/json' };

    // DNS rebinding: the page's own name arrives as Host, with or without the port
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const a = await send(port, 'POST', snapshot, { host, ...json }, '{}');
      assert.equal(a.status, 421, host);
      assert.equal(a.body.error?.code, 'MisdirectedRequest');
      noCors(a);
      const read = await send(port, 'GET', `/devices/${h.deviceId}/messages`, { host });
      assert.equal(read.status, 421, `GET with Host ${host}`);
    }

    // the writes a page may send without a preflight: text/plain, forms, and none at all
    const plain = await send(port, 'POST', snapshot, { host: `127.0.0.1:${port}`, 'content-type': 'text/plain' }, '{}');
    assert.equal(plain.status, 415);
    assert.equal(plain.body.error?.code, 'UnsupportedMediaType');
    assert.match(plain.body.error?.message ?? '', /application\/json/);
    noCors(plain);
    const noType = await send(port, 'POST', snapshot, { host: `localhost:${port}` }, '{}');
    assert.equal(noType.status, 415);

    const form = { host: `localhost:${port}`, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' };
    const registered = await send(port, 'POST', '/devices', form, '{"id":"planted"}');
    assert.equal(registered.status, 403);
    assert.equal(registered.body.error?.code, 'ForbiddenOrigin');
    assert.equal(registered.body.connectionString, undefined);
    noCors(registered);
    const sameFormNoOrigin = await send(
      port,
      'POST',
      '/devices',
      { host: `localhost:${port}`, 'content-type': 'application/x-www-form-urlencoded' },
      '{"id":"planted"}',
    );
    assert.equal(sameFormNoOrigin.status, 415);
    const bodyless = await send(port, 'POST', snapshot, { host: `localhost:${port}`, origin: 'https://evil.example' });
    assert.equal(bodyless.status, 403, 'a body-less cross-site POST must not invoke the method');
    const otherLocalPage = await send(port, 'POST', snapshot, { host: `localhost:${port}`, origin: 'http://localhost:3000', ...json }, '{}');
    assert.equal(otherLocalPage.status, 403);

    // a preflight gets no permission
    const preflight = await send(port, 'OPTIONS', '/devices', {
      host: `localhost:${port}`,
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    });
    assert.notEqual(Math.floor(preflight.status / 100), 2);
    noCors(preflight);

    assert.equal(snapshots, 0, 'no refused request reached the device');
    assert.equal((await send(port, 'GET', '/devices/planted', { host: `localhost:${port}` })).status, 404, 'no device was planted');

    // curl on loopback: JSON with its content type, under each loopback name; bodiless writes pass
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      const a = await send(
        port,
        'POST',
        snapshot,
        { host, 'content-type': 'application/json; charset=utf-8', accept: '*/*', 'user-agent': 'curl/8.5.0' },
        '{"timeoutSeconds":5}',
      );
      assert.equal(a.status, 200, `${host}: ${JSON.stringify(a.body)}`);
      assert.deepEqual(a.body, { status: 200, payload: { jpeg: 'secret-frame' } });
      noCors(a);
    }
    assert.equal(snapshots, 4);
    const bodilessLocal = await send(port, 'POST', snapshot, { host: `127.0.0.1:${port}` });
    assert.equal(bodilessLocal.status, 200);
    const sameOrigin = await send(port, 'POST', snapshot, { host: `localhost:${port}`, origin: `http://localhost:${port}`, ...json }, '{}');
    assert.equal(sameOrigin.status, 200, "the API's own origin may call it");
    const reset = await send(port, 'DELETE', '/faults', { host: `127.0.0.1:${port}` });
    assert.equal(reset.status, 200);
    const added = await send(port, 'POST', '/devices', { host: `127.0.0.1:${port}`, ...json }, '{"id":"cam-local"}');
    assert.equal(added.status, 201);
    assert.match(String(added.body.connectionString), /DeviceId=cam-local;SharedAccessKey=/);
  } finally {
    await client.close();
    await h.close();
  }
});
