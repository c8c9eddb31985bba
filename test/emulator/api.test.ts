// The HTTP service API's registry routes and its one error shape `{error:{code,message}}` for
// bad JSON, bad fields, unknown routes and wrong methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSON_HEADERS, startTestHub } from '../helpers/emulator.js';

async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('registry routes and error shape', { timeout: 10_000 }, async () => {
  const h = await startTestHub();
  try {
    const created = await call(`${h.api}/devices`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":"cam-9"}' });
    assert.equal(created.status, 201);
    assert.match(String(created.body.connectionString), new RegExp(`^HostName=localhost:${h.hub.mqttPort};DeviceId=cam-9;SharedAccessKey=`));
    const again = await call(`${h.api}/devices`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":"cam-9"}' });
    assert.equal(again.status, 200);
    assert.equal(again.body.connectionString, created.body.connectionString);
    const mod = await call(`${h.api}/devices/cam-9/modules`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":"percept"}' });
    assert.equal(mod.status, 201);
    assert.match(String(mod.body.connectionString), /;DeviceId=cam-9;ModuleId=percept;SharedAccessKey=/);

    const list = (await (await fetch(`${h.api}/devices`)).json()) as Array<{ deviceId: string; connected: boolean; modules: unknown[] }>;
    assert.deepEqual(list.map((d) => d.deviceId).sort(), [h.deviceId, 'cam-9'].sort());
    assert.deepEqual(list.find((d) => d.deviceId === 'cam-9')?.modules, [{ moduleId: 'percept', connected: false }]);
    const one = await call(`${h.api}/devices/cam-9`);
    assert.equal(one.body.connected, false);

    const cases: Array<[string, RequestInit | undefined, number, string]> = [
      [`${h.api}/devices`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":"bad/id"}' }, 400, 'BadRequest'],
      [`${h.api}/devices`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":' }, 400, 'BadRequest'],
      [`${h.api}/devices`, { method: 'POST', headers: JSON_HEADERS, body: '{"id":"x","colour":"red"}' }, 400, 'BadRequest'],
      [`${h.api}/devices`, { method: 'PUT', headers: JSON_HEADERS, body: '{}' }, 405, 'MethodNotAllowed'],
      [`${h.api}/nowhere`, undefined, 404, 'NotFound'],
      [`${h.api}/devices/ghost/twin`, undefined, 404, 'DeviceNotFound'],
      [`${h.api}/devices/cam-9/modules/ghost/twin`, undefined, 404, 'ModuleNotFound'],
      [`${h.api}/devices/cam-9/messages`, { method: 'DELETE' }, 405, 'MethodNotAllowed'],
    ];
    for (const [url, init, status, code] of cases) {
      const r = await call(url, init);
      assert.equal(r.status, status, `${init?.method ?? 'GET'} ${url}`);
      assert.equal(r.body.error?.code, code, `${init?.method ?? 'GET'} ${url}`);
      assert.equal(typeof r.body.error?.message, 'string');
    }
  } finally {
    await h.close();
  }
});
