// The verifier's report as text for a person: one block per device, findings first in
// capitals, benign notes (duplicates, replays, unsigned tail) marked as not findings.
import type { DeviceReport, Range, Report } from './verify.js';

const SHOW = 20;

function range(r: Range): string {
  const to = r.to === null ? '?' : String(r.to);
  return r.from === r.to ? `${r.boot}:${r.from}` : `${r.boot}:${r.from}..${to}`;
}

function ranges(rs: Range[]): string {
  const shown = rs.slice(0, SHOW).map(range).join(', ');
  return rs.length > SHOW ? `${shown}, ... (${rs.length} ranges)` : shown;
}

function at(position: number): string {
  return `#${position}`;
}

function device(d: DeviceReport, reorderIsFinding: boolean): string[] {
  const out: string[] = [];
  const keys = d.unknownDevice
    ? 'NO KEYS enrolled for it'
    : d.keys.map((k) => `key ${k.kid} (${k.attestation}${k.certified ? ', certified by the TPM attestation key' : ''}): ${k.signatures} signatures`).join('; ');
  out.push(`device ${d.device}: ${d.messages} messages (${d.unique} unique), ${d.boots.length} boot${d.boots.length === 1 ? '' : 's'}, ${keys}`);
  for (const b of d.boots) out.push(`  boot ${b.boot}  seq ${b.from}..${b.to}  ${b.messages} messages  start: ${b.start}`);
  out.push(`  verified       ${d.verified.length ? ranges(d.verified) : 'nothing'}`);
  const list = <T>(label: string, items: T[], line: (x: T) => string): void => {
    for (const x of items.slice(0, SHOW)) out.push(`  ${label.padEnd(14)} ${line(x)}`);
    if (items.length > SHOW) out.push(`  ${label.padEnd(14)} ... ${items.length - SHOW} more (--json lists them all)`);
  };
  list('FORGERY', d.forgeries, (f) => `${at(f.position)} ${f.id ?? '(no id)'}: ${f.reason}: ${f.detail}`);
  list('GAP', d.gaps, (g) => `${range(g)}: ${g.detail}`);
  list('UNVERIFIED', d.unverified, (r) => `${range(r)}: no signature covers it before the chain breaks`);
  list(
    reorderIsFinding ? 'REORDERED' : 'reordered',
    d.reorderings,
    (r) => `${at(r.position)} ${r.id} arrived after ${r.after}${reorderIsFinding ? '' : ' (not a finding: --allow-reorder)'}`,
  );
  const firstUnchained = d.unchained.positions[0];
  if (d.unchained.count)
    out.push(
      `  ${'UNCHAINED'.padEnd(14)} ${d.unchained.count} messages without percept-boot/-seq/-prev${firstUnchained === undefined ? '' : ` (first at ${at(firstUnchained)})`}`,
    );
  if (d.unknownDevice && d.unique) out.push(`  ${'NO KEYS'.padEnd(14)} add the device's entry (\`percept tpm enroll\`) to the keys file`);
  if (d.duplicates.count) out.push(`  duplicates     ${d.duplicates.count} (not findings: the same message again, as at-least-once delivery resends)`);
  if (d.replays.length) {
    const same = d.replays.filter((r) => r.sameDigest).length;
    out.push(
      `  replays        ${d.replays.length} ${d.replays.length === 1 ? 'copy' : 'copies'} of an earlier boot's messages after a later boot began (${same} identical: not findings)`,
    );
  }
  if (d.unsignedTail.length) out.push(`  unsigned tail  ${ranges(d.unsignedTail)} (not a finding: the next checkpoint will sign it)`);
  out.push(`  ${d.ok ? 'OK' : `${d.findings} finding${d.findings === 1 ? '' : 's'}`}`);
  return out;
}

export function formatReport(r: Report): string {
  const head = `percept verify: ${r.source}: ${r.messages} messages from ${r.devices.length} device${r.devices.length === 1 ? '' : 's'} in ${r.seconds.toFixed(2)} s (${r.messagesPerSecond} messages/s)`;
  const lines = [head, ''];
  for (const d of r.devices) lines.push(...device(d, !r.options.allowReorder), '');
  for (const p of r.input) lines.push(`${p.reason === 'empty' ? 'NOTHING' : 'INPUT'}  ${p.detail}`);
  lines.push(r.ok ? 'OK: every message verifies' : `${r.findings} finding${r.findings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}
