// Judges one device's received records: picks the genuine message at each (boot, seq),
// orders the boots by how they link, walks the chain checking every link, and sorts what it
// finds into findings (forgeries, gaps, reorderings, unverified) and benign notes.
import { GENESIS } from '../telemetry/chain.js';
import type { BootSummary, DeviceReport, DeviceStream, Forgery, Gap, Range, Rec, VerifyOptions } from './verify.js';

type NonEmpty<T> = [T, ...T[]];

/** The last element of a non-empty list. */
const lastIn = <T>(a: NonEmpty<T>): T => a[a.length - 1] ?? a[0];

/** Every copy of one content at one (boot, seq). */
interface Variant {
  boot: string;
  seq: number;
  digest: string;
  prev: string;
  copies: NonEmpty<Rec>;
  valid: boolean;
  /** Index in the chain walk (flat), once walked. */
  at: number;
}

const LIST_LIMIT = 1000;
const idOf = (v: { boot: string; seq: number }): string => `${v.boot}:${v.seq}`;

function variantsOf(recs: Rec[]): Map<string, Map<number, NonEmpty<Variant>>> {
  const boots = new Map<string, Map<number, NonEmpty<Variant>>>();
  for (const r of recs) {
    let seqs = boots.get(r.boot);
    if (!seqs) boots.set(r.boot, (seqs = new Map<number, NonEmpty<Variant>>()));
    const vs = seqs.get(r.seq);
    let v: Variant | undefined;
    if (vs) for (const x of vs) if (x.digest === r.digest) v = x;
    if (v) v.copies.push(r);
    else {
      v = { boot: r.boot, seq: r.seq, digest: r.digest, prev: r.prev, copies: [r], valid: false, at: -1 };
      if (vs) vs.push(v);
      else seqs.set(r.seq, [v]);
    }
    if (r.sig === 'valid') v.valid = true;
  }
  return boots;
}

/** Appends `r` to ranges, extending the last one when it is the next seq of the same boot. */
function extend(ranges: Range[], r: { boot: string; seq: number }): void {
  const last = ranges[ranges.length - 1];
  if (last && last.boot === r.boot && last.to === r.seq - 1) last.to = r.seq;
  else ranges.push({ boot: r.boot, from: r.seq, to: r.seq });
}

export function analyseDevice(d: DeviceStream, opts: VerifyOptions): DeviceReport {
  const boots = variantsOf(d.recs);
  const forgeries: Forgery[] = [...d.early];
  const gaps: Gap[] = [];

  // The genuine content at each position is the one the next message (or the next boot's
  // first) recorded as its prev; failing that, a signed one; failing that, the first to arrive.
  const bootStarts = new Set<string>();
  for (const seqs of boots.values()) for (const v of seqs.get(1) ?? []) bootStarts.add(v.prev);
  const losers: Variant[] = [];
  const canon = new Map<string, NonEmpty<Variant>>();
  for (const [boot, seqs] of boots) {
    const list: Variant[] = [];
    const order = [...seqs.keys()].sort((a, b) => a - b);
    order.forEach((seq, i) => {
      const vs = seqs.get(seq)!;
      let pick = vs[0];
      if (vs.length > 1) {
        const next = order[i + 1] === seq + 1 ? new Set(seqs.get(seq + 1)!.map((v) => v.prev)) : bootStarts;
        pick = vs.find((v) => next.has(v.digest)) ?? vs.find((v) => v.valid) ?? vs.reduce((a, b) => (a.copies[0].arrival <= b.copies[0].arrival ? a : b));
        for (const v of vs) if (v !== pick) losers.push(v);
      }
      list.push(pick);
    });
    // A boot is in the map because a record named it, so its list holds at least that record's pick.
    const [head, ...rest] = list;
    if (head !== undefined) canon.set(boot, [head, ...rest]);
  }

  // Boot order: a boot's first message names the last digest of the boot before it.
  const firstArrival = new Map<string, number>();
  for (const r of d.recs) if (!firstArrival.has(r.boot)) firstArrival.set(r.boot, r.arrival);
  const lastOf = new Map<string, string>();
  for (const [boot, list] of canon) lastOf.set(lastIn(list).digest, boot);
  const succ = new Map<string, string>();
  const hasPred = new Set<string>();
  const dangling = new Map<string, string>();
  for (const [boot, list] of [...canon].sort((a, b) => firstArrival.get(a[0])! - firstArrival.get(b[0])!)) {
    const first = list[0];
    if (first.seq !== 1 || first.prev === GENESIS) continue;
    const pred = lastOf.get(first.prev);
    if (pred !== undefined && pred !== boot && !succ.has(pred)) {
      succ.set(pred, boot);
      hasPred.add(boot);
    } else if (pred !== undefined && pred !== boot) {
      forgeries.push({
        reason: 'fork',
        id: first.copies[0].id,
        position: first.copies[0].position,
        detail: `boot ${boot} continues from the end of boot ${pred}, as boot ${succ.get(pred)} already does: two chains claim one past`,
      });
    } else dangling.set(first.prev, boot);
  }
  if (dangling.size) {
    for (const [boot, list] of canon) {
      for (const v of list) {
        const other = dangling.get(v.digest);
        if (other !== undefined && other !== boot) {
          const f = canon.get(other)![0].copies[0];
          forgeries.push({
            reason: 'fork',
            id: f.id,
            position: f.position,
            detail: `boot ${other} continues from ${idOf(v)}, which is not the last message of boot ${boot}: the chain was forked`,
          });
        }
      }
    }
  }
  const heads = [...canon.keys()].filter((b) => !hasPred.has(b)).sort((a, b) => firstArrival.get(a)! - firstArrival.get(b)!);
  const bootOrder: string[] = [];
  const seen = new Set<string>();
  for (const h of heads)
    for (let b: string | undefined = h; b !== undefined && !seen.has(b); b = succ.get(b)) {
      seen.add(b);
      bootOrder.push(b);
    }

  // Walk the chain in (boot, seq) order. A signature covers everything back to the last
  // break; what follows the last signature of a broken-off segment is unverified (a
  // finding), what follows the very last one is the unsigned tail (not a finding).
  const flat: Variant[] = [];
  const summaries: BootSummary[] = [];
  const verified: Range[] = [];
  const unverified: Range[] = [];
  let covered = 0; // flat[0..covered) are covered by a signature or judged
  const closeSegment = (end: number): void => {
    for (const v of flat.slice(covered, end)) extend(unverified, v);
    covered = end;
  };
  for (const boot of bootOrder) {
    const list = canon.get(boot)!;
    const summary: BootSummary = { boot, from: list[0].seq, to: lastIn(list).seq, messages: list.length, start: 'unlinked' };
    summaries.push(summary);
    for (const r of list) {
      const p = flat[flat.length - 1] ?? null;
      let brk = false;
      if (p && p.boot === boot) {
        if (r.seq === p.seq + 1 && r.prev !== p.digest) {
          brk = true;
          const c = p.copies[0];
          forgeries.push({
            reason: 'digest-mismatch',
            id: c.id,
            position: c.position,
            detail: `${idOf(r)} does not follow ${idOf(p)} as received: ${idOf(p)} (body or properties) was altered, or ${idOf(r)}'s percept-prev was`,
          });
        } else if (r.seq !== p.seq + 1) {
          brk = true;
          gaps.push({ boot, from: p.seq + 1, to: r.seq - 1, detail: 'never received' });
        }
      } else if (r.seq !== 1) {
        brk = p !== null;
        if (p !== null || !opts.partial) gaps.push({ boot, from: 1, to: r.seq - 1, detail: 'the start of this boot was never received' });
      } else if (p === null) {
        summary.start = r.prev === GENESIS ? 'genesis' : 'earlier';
      } else if (r.prev === p.digest) {
        summary.start = 'linked';
      } else if (r.prev === GENESIS) {
        summary.start = 'restart';
        brk = true;
      } else {
        brk = true;
        gaps.push({
          boot: p.boot,
          from: p.seq + 1,
          to: null,
          detail: `boot ${boot} begins after a message never received: what followed ${idOf(p)} is missing, or ${idOf(p)} was altered`,
        });
      }
      if (brk) closeSegment(flat.length);
      flat.push(r);
      if (r.valid) {
        for (const v of flat.slice(covered)) extend(verified, v);
        covered = flat.length;
      }
    }
  }
  const unsignedTail: Range[] = [];
  for (const v of flat.slice(covered)) extend(unsignedTail, v);

  // Arrival order against chain order: the first copy of each message must arrive after the
  // first copies of all messages before it (one MQTT connection and the outbox keep order).
  flat.forEach((v, i) => (v.at = i));
  const reorderings: DeviceReport['reorderings'] = [];
  let max: Variant | undefined;
  // Usually the chain order is the arrival order already: then there is nothing to sort.
  let inOrder = true;
  let lastArrival = -1;
  for (const v of flat) {
    if (v.copies[0].arrival <= lastArrival) {
      inOrder = false;
      break;
    }
    lastArrival = v.copies[0].arrival;
  }
  for (const v of inOrder ? flat : [...flat].sort((a, b) => a.copies[0].arrival - b.copies[0].arrival)) {
    if (max !== undefined && v.at < max.at) reorderings.push({ id: idOf(v), position: v.copies[0].position, after: idOf(max) });
    else max = v;
  }

  // Copies: a repeated id with the same digest is an at-least-once resend; one arriving after
  // a later boot began is also listed as a replay. A different digest under an id is forged.
  const bootIdx = new Map(bootOrder.map((b, i) => [b, i]));
  // Indexed by arrival (a record's index in d.recs): 1 for the first copy of its content.
  const firstCopy = new Uint8Array(d.recs.length);
  for (const seqs of boots.values()) for (const vs of seqs.values()) for (const v of vs) firstCopy[v.copies[0].arrival] = 1;
  const loserOf = new Map<Rec, Variant>();
  for (const v of losers) for (const c of v.copies) loserOf.set(c, v);
  const replays: DeviceReport['replays'] = [];
  const dupItems: { id: string; position: number }[] = [];
  let dupCount = 0;
  const lateLosers = new Set<Variant>();
  let maxBoot = -1;
  for (const r of d.recs) {
    const bi = bootIdx.get(r.boot)!;
    const later = bi < maxBoot ? (bootOrder[maxBoot] ?? null) : null;
    const loser = loserOf.get(r);
    if (!firstCopy[r.arrival]) {
      dupCount++;
      if (dupItems.length < LIST_LIMIT) dupItems.push({ id: idOf(r), position: r.position });
    }
    if (later !== null && (loser || !firstCopy[r.arrival])) {
      if (replays.length < LIST_LIMIT) replays.push({ id: idOf(r), position: r.position, laterBoot: later, sameDigest: !loser });
      if (loser) lateLosers.add(loser);
    }
    maxBoot = Math.max(maxBoot, bi);
  }
  for (const v of losers) {
    const c = v.copies[0];
    const late = lateLosers.has(v);
    forgeries.push({
      reason: late ? 'replay' : 'conflict',
      id: c.id,
      position: c.position,
      detail: `a second, different message under ${idOf(v)}${late ? ', arriving after a later boot began' : ''}: one of them was forged`,
    });
  }
  forgeries.sort((a, b) => a.position - b.position);

  const unknownDevice = d.keys === undefined;
  const reorderFindings = opts.allowReorder ? 0 : reorderings.length;
  const findings = forgeries.length + gaps.length + reorderFindings + unverified.length + d.unchained.length + (unknownDevice && d.recs.length ? 1 : 0);
  return {
    device: d.device,
    messages: d.messages,
    unique: flat.length,
    keys: [...(d.keys?.values() ?? [])].map((k) => ({
      kid: k.kid,
      attestation: k.attestation,
      certified: k.certified,
      signatures: d.signatures.get(k.kid) ?? 0,
    })),
    unknownDevice,
    boots: summaries,
    verified,
    gaps,
    forgeries,
    reorderings,
    replays,
    duplicates: { count: dupCount, items: dupItems },
    unverified,
    unsignedTail,
    unchained: { count: d.unchained.length, positions: d.unchained.slice(0, LIST_LIMIT) },
    findings,
    ok: findings === 0,
  };
}
