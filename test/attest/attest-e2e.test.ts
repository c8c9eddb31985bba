// The whole attested path on real parts: swtpm holds the signing key and the SAS key, the
// agent (`--signer tpm`) sends through the real SDK to the emulator, answers `attest` with a
// quote, and `percept verify` accepts the emulator's messages.jsonl with the keys `percept tpm
// enroll` printed; one tampered line makes it exit 1.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startSwtpm, tpmSkipReason } from '../helpers/swtpm.js';
import { startTestHub } from '../helpers/emulator.js';
import { agentArgs, startAgent, until } from '../helpers/agent.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { checkCertification, type KeysFile } from '../../src/attest/keys.js';
import { parseAttest } from '../../src/attest/tpms-attest.js';
import type { AttestEvidence } from '../../src/attest/evidence.js';
import type { Report } from '../../src/attest/verify.js';
import { at, must } from '../helpers/at.js';

const skip = tpmSkipReason();

test(
  'agent with --signer tpm and the SAS key in the TPM: attest answers, percept verify accepts, a tampered line fails',
  { skip, timeout: 120_000 },
  async (t) => {
    const sw = await startSwtpm();
    t.after(() => sw.stop());
    const hub = await startTestHub({ deviceId: 'tpm-agent' });
    t.after(() => hub.close());
    const dir = tempDir();

    const imported = await runCli(['tpm', 'import-key', '--connection-string', hub.connectionString, '--tcti', sw.tcti]);
    assert.equal(imported.code, 0, imported.stderr);
    const enrolled = await runCli(['tpm', 'enroll', '--tcti', sw.tcti, '--device', 'tpm-agent']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const keys = JSON.parse(enrolled.stdout) as KeysFile;
    assert.equal(at(must(keys['tpm-agent'], 'tpm-agent').keys, 0).attestation, 'tpm');
    const keysFile = path.join(dir, 'keys.json');
    fs.writeFileSync(keysFile, enrolled.stdout);

    const state = tempDir();
    const args = agentArgs(hub, state, ['--signer', 'tpm', '--tcti', sw.tcti]);
    args[args.indexOf('--connection-string') + 1] = imported.stdout.trim();
    const agent = startAgent(args, { stateDir: state });
    let stopped = false;
    t.after(async () => {
      if (!stopped) await agent.stop();
    });
    await until('connected', () => hub.hub.isConnected('tpm-agent'), 30_000);
    await hub.hub.waitForMessages(3, { deviceId: 'tpm-agent' }, 30_000);
    assert.doesNotMatch(agent.stderr(), /SharedAccessKey=/);

    // attest: a quote over the caller's nonce by the AK enrolled above, and the AK's
    // certification of the signing key under the same nonce.
    const nonce = crypto.randomBytes(20);
    const res = await hub.hub.invokeMethod('tpm-agent', 'attest', { nonce: nonce.toString('base64'), pcrs: [0, 7] }, { timeoutSeconds: 20 });
    assert.equal(res.status, 200, JSON.stringify(res.payload));
    const ev = res.payload as AttestEvidence;
    const entry = must(keys['tpm-agent'], 'tpm-agent');
    assert.equal(ev.attestationKey.publicKeyPem, entry.attestationKey!.publicKeyPem);
    assert.equal(ev.signingKey.kid, at(entry.keys, 0).kid);
    const quote = Buffer.from(ev.quote.attest, 'base64');
    assert.ok(
      crypto.verify('sha256', quote, crypto.createPublicKey(entry.attestationKey!.publicKeyPem), Buffer.from(ev.quote.signature, 'base64')),
      'the quote verifies with the enrolled AK',
    );
    const q = parseAttest(quote);
    assert.equal(q.type, 'quote');
    assert.deepEqual(q.extraData, nonce);
    if (q.type === 'quote')
      assert.deepEqual(
        q.pcrDigest,
        crypto
          .createHash('sha256')
          .update(Buffer.concat(ev.pcrValues.map((v) => Buffer.from(v, 'hex'))))
          .digest(),
      );
    assert.equal(ev.certification.nonce, nonce.toString('hex'));
    checkCertification({ ...entry, certification: ev.certification }, crypto.createPublicKey(ev.signingKey.publicKeyPem), 'attest answer');
    const tooShort = await hub.hub.invokeMethod('tpm-agent', 'attest', { nonce: 'abcd' }, { timeoutSeconds: 10 });
    assert.equal(tooShort.status, 400);

    stopped = true;
    assert.equal(await agent.stop(), 0, agent.stderr());
    const messages = path.join(hub.stateDir, 'messages.jsonl');
    const received = fs.readFileSync(messages, 'utf8').trim().split('\n');
    assert.ok(received.length >= 3);
    assert.ok(received.some((l) => (JSON.parse(l) as { properties: Record<string, string> }).properties['percept-att'] === 'tpm'));

    const ok = await runCli(['verify', '--messages', messages, '--keys', keysFile, '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const report = JSON.parse(ok.stdout) as Report;
    const d = at(report.devices, 0);
    assert.deepEqual(
      d.keys.map((k) => [k.attestation, k.certified]),
      [['tpm', true]],
    );
    assert.ok(at(d.keys, 0).signatures >= 1);
    assert.deepEqual(d.verified, [{ boot: at(d.boots, 0).boot, from: 1, to: d.unique }], 'the run ends with a signature, so everything is verified');

    // One tampered line: a detection count changed in a copy of messages.jsonl (a window's; the
    // track events between them have no counts).
    const lines = [...received];
    const hasCounts = (l: string) => (JSON.parse(l) as { body: { counts?: unknown } }).body.counts !== undefined;
    const i = lines.findIndex((l, k) => k >= Math.floor(lines.length / 2) && hasCounts(l));
    assert.ok(i >= 0, 'a window message in the second half');
    const m = JSON.parse(at(lines, i)) as { body: { counts: Record<string, number> }; bodyBase64: string };
    m.body.counts.dog = (m.body.counts.dog ?? 0) + 1;
    m.bodyBase64 = Buffer.from(JSON.stringify(m.body)).toString('base64');
    lines[i] = JSON.stringify(m);
    const tampered = path.join(dir, 'tampered.jsonl');
    fs.writeFileSync(tampered, lines.join('\n') + '\n');
    const bad = await runCli(['verify', '--messages', tampered, '--keys', keysFile]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, new RegExp(`FORGERY\\s+#${i + 1} `));
  },
);
