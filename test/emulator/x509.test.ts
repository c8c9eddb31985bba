// X.509 devices as IoT Hub serves them: a self-signed device connects with the certificate whose
// thumbprint is registered and no password; another certificate, none at all, an expired one or
// a SAS token are refused (CONNACK 5). A CA-signed device needs a registered CA and CN = its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createSas, makeCertificate } from '../../src/emulator/index.js';
import { azureDevice, connack, startTestHub, x509DeviceClient } from '../helpers/emulator.js';
import { must } from '../helpers/at.js';

const API_VERSION = '?api-version=2021-04-12';

test('a self-signed device sends with its certificate; another, none, an expired one or a token are refused', { timeout: 30_000 }, async () => {
  const h = await startTestHub();
  try {
    const made = h.hub.addX509Device('cam-x');
    assert.equal(made.connectionString, `HostName=${h.hub.hostName};DeviceId=cam-x;x509=true`);
    const files = made.files!;
    assert.equal(fs.statSync(files.keyPath).mode & 0o777, 0o600, 'the private key is readable by its owner only');
    const cert = fs.readFileSync(files.certPath, 'utf8');
    const key = fs.readFileSync(files.keyPath, 'utf8');
    assert.equal(files.thumbprints.sha1, new crypto.X509Certificate(cert).fingerprint.replace(/:/g, ''));
    assert.deepEqual(h.hub.addX509Device('cam-x'), { ...made, created: false }, 'adding it again keeps the same certificate');

    const client = await x509DeviceClient(made.connectionString, h.ca, cert, key);
    await client.open();
    await client.sendEvent(new azureDevice.Message('{"auth":"x509"}'));
    const twin = await client.getTwin();
    assert.equal(typeof twin.properties.desired.$version, 'number');
    await client.close();
    assert.deepEqual(
      h.hub.messages('cam-x').map((m) => m.body),
      [{ auth: 'x509' }],
    );

    const stranger = makeCertificate('cam-x');
    const wrong = await x509DeviceClient(made.connectionString, h.ca, stranger.certPem, stranger.keyPem);
    await assert.rejects(wrong.open(), { name: 'UnauthorizedError' });
    await wrong.close();
    assert.equal(h.hub.isConnected('cam-x'), false);

    const port = h.hub.mqttPort;
    const user = (id: string) => `${h.hub.hostName}/${id}/${API_VERSION}`;
    const mine = { cert, key };
    assert.equal(await connack(port, h.ca, 'cam-x', user('cam-x'), undefined, mine), 0);
    assert.equal(await connack(port, h.ca, 'cam-x', user('cam-x'), undefined), 5, 'no certificate');
    assert.equal(await connack(port, h.ca, 'cam-x', user('cam-x'), undefined, { cert: stranger.certPem, key: stranger.keyPem }), 5, 'another certificate');
    const sasKey = must(h.connectionString.split('SharedAccessKey=')[1], 'the shared access key');
    const token = createSas(h.hub.hostName, { deviceId: 'cam-x', moduleId: null }, sasKey, Math.floor(Date.now() / 1000) + 600);
    assert.equal(await connack(port, h.ca, 'cam-x', user('cam-x'), token, mine), 5, 'a token cannot stand in for the certificate');
    assert.equal(await connack(port, h.ca, h.deviceId, user(h.deviceId), undefined, mine), 5, 'a SAS device still needs its token');

    const expired = makeCertificate('old-x', { days: -1 });
    h.hub.addX509Device('old-x', { thumbprint: new crypto.X509Certificate(expired.certPem).fingerprint256 });
    assert.equal(await connack(port, h.ca, 'old-x', user('old-x'), undefined, { cert: expired.certPem, key: expired.keyPem }), 5, 'an expired certificate');
  } finally {
    await h.close();
  }
});

test('the service API registers a device by its SHA-1 or SHA-256 thumbprint, and generates one', { timeout: 20_000 }, async () => {
  const h = await startTestHub();
  const post = async (body: unknown) => {
    const res = await fetch(`${h.api}/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  try {
    const own = makeCertificate('own-1');
    const x = new crypto.X509Certificate(own.certPem);
    const byThumb = await post({ id: 'own-1', auth: 'x509', thumbprint: x.fingerprint256.toLowerCase() });
    assert.equal(byThumb.status, 201);
    assert.equal(byThumb.body.connectionString, `HostName=${h.hub.hostName};DeviceId=own-1;x509=true`);
    assert.equal(byThumb.body.certPath, undefined, 'a device that brings its certificate gets no files');
    const client = await x509DeviceClient(byThumb.body.connectionString, h.ca, own.certPem, own.keyPem);
    await client.open();
    await client.close();

    const bySha1 = await post({ id: 'own-2', auth: 'x509', thumbprint: x.fingerprint });
    assert.equal(bySha1.status, 201);
    assert.equal(await connack(h.hub.mqttPort, h.ca, 'own-2', `${h.hub.hostName}/own-2/${API_VERSION}`, undefined, { cert: own.certPem, key: own.keyPem }), 0);

    const generated = await post({ id: 'gen-1', auth: 'x509' });
    assert.equal(generated.status, 201);
    assert.match(String(generated.body.certPath), /devices\/gen-1\.cert\.pem$/);
    assert.equal(generated.body.keyPem, undefined, 'the key is never in a response');
    const identity = (await (await fetch(`${h.api}/devices/gen-1`)).json()) as { auth: string; key: unknown };
    assert.deepEqual([identity.auth, identity.key], ['x509', null]);

    assert.equal((await post({ id: 'bad', auth: 'x509', thumbprint: 'abc' })).status, 400);
    assert.equal((await post({ id: h.deviceId, auth: 'x509' })).status, 409, 'a SAS device does not turn into an X.509 one');
    assert.equal((await post({ id: 'own-1' })).status, 409, 'nor the other way round');
    assert.equal((await post({ id: 'gen-1', auth: 'x509', moduleId: 'm' })).status, 400);
  } finally {
    await h.close();
  }
});

test('a CA-signed device connects when a registered CA issued its certificate (via an intermediate too) and CN is its id', { timeout: 30_000 }, async () => {
  const h = await startTestHub();
  try {
    const root = makeCertificate('Test Root CA', { ca: true });
    const put = await fetch(`${h.api}/certificates/test-root`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: root.certPem }),
    });
    assert.equal(put.status, 201);
    const notCa = makeCertificate('leaf');
    const refusedCa = await fetch(`${h.api}/certificates/leaf`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: notCa.certPem }),
    });
    assert.equal(refusedCa.status, 400, 'only a CA certificate is registered');
    const added = await fetch(`${h.api}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'ca-dev', auth: 'x509-ca' }),
    });
    const cs = ((await added.json()) as { connectionString: string }).connectionString;

    const issued = makeCertificate('ca-dev', { issuer: root });
    const client = await x509DeviceClient(cs, h.ca, issued.certPem, issued.keyPem);
    await client.open();
    await client.sendEvent(new azureDevice.Message('ca'));
    await client.close();
    assert.deepEqual(
      h.hub.messages('ca-dev').map((m) => m.body),
      ['ca'],
    );

    const user = `${h.hub.hostName}/ca-dev/${API_VERSION}`;
    const intermediate = makeCertificate('Test Intermediate', { ca: true, issuer: root });
    const deep = makeCertificate('ca-dev', { issuer: intermediate });
    assert.equal(
      await connack(h.hub.mqttPort, h.ca, 'ca-dev', user, undefined, { cert: deep.certPem + intermediate.certPem, key: deep.keyPem }),
      0,
      'leaf plus intermediate',
    );
    assert.equal(await connack(h.hub.mqttPort, h.ca, 'ca-dev', user, undefined, { cert: deep.certPem, key: deep.keyPem }), 5, 'the intermediate missing');
    const otherCn = makeCertificate('someone-else', { issuer: root });
    assert.equal(await connack(h.hub.mqttPort, h.ca, 'ca-dev', user, undefined, { cert: otherCn.certPem, key: otherCn.keyPem }), 5, 'CN is not the device id');
    const foreignCa = makeCertificate('Other CA', { ca: true });
    const foreign = makeCertificate('ca-dev', { issuer: foreignCa });
    assert.equal(await connack(h.hub.mqttPort, h.ca, 'ca-dev', user, undefined, { cert: foreign.certPem, key: foreign.keyPem }), 5, 'a CA nobody registered');
    const selfSigned = makeCertificate('ca-dev');
    assert.equal(
      await connack(h.hub.mqttPort, h.ca, 'ca-dev', user, undefined, { cert: selfSigned.certPem, key: selfSigned.keyPem }),
      5,
      'self-signed with the right CN',
    );
  } finally {
    await h.close();
  }
});
