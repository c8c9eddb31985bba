// IoT Hub's MQTT topic grammar: what a device may publish and subscribe to, how property bags
// (`$.mid=…&key=value`) are decoded and encoded, and the topics the hub publishes on.
import type { Identity } from './types.js';

export type Inbound =
  | { kind: 'telemetry'; deviceId: string; moduleId: string | null; bag: string }
  | { kind: 'twinGet'; rid: string }
  | { kind: 'twinReported'; rid: string }
  | { kind: 'methodResponse'; status: number; rid: string };

/** System property short names on the wire and the names the emulator reports them under. */
const SYSTEM_NAMES: Record<string, string> = {
  '$.mid': 'messageId',
  '$.cid': 'correlationId',
  '$.uid': 'userId',
  '$.to': 'to',
  '$.ct': 'contentType',
  '$.ce': 'contentEncoding',
  '$.exp': 'expiryTimeUtc',
  '$.on': 'outputName',
  '$.ifid': 'interfaceId',
  '$.sub': 'subject',
};
const WIRE_NAMES: Record<string, string> = Object.fromEntries(Object.entries(SYSTEM_NAMES).map(([k, v]) => [v, k]));

/** Decodes `a=1&b=x%20y`; null when an escape is malformed. Keys without `=` get an empty value. */
export function parseBag(bag: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  if (bag === '') return out;
  for (const pair of bag.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    const v = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      out.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      return null;
    }
  }
  return out;
}

/** Splits decoded pairs into system properties (by name) and application properties. */
export function splitProperties(pairs: Array<[string, string]>): {
  system: Record<string, string>;
  app: Record<string, string>;
} {
  const system: Record<string, string> = {};
  const app: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (k.startsWith('$.')) system[SYSTEM_NAMES[k] ?? k] = v;
    else app[k] = v;
  }
  return { system, app };
}

/** Encodes system properties (by name) and application properties into a bag. */
export function formatBag(system: Record<string, string>, app: Record<string, string> = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(system)) parts.push(`${encodeURIComponent(WIRE_NAMES[k] ?? k)}=${encodeURIComponent(v)}`);
  for (const [k, v] of Object.entries(app)) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.join('&');
}

function query(topic: string): Map<string, string> {
  const q = topic.indexOf('?');
  return new Map(q < 0 ? [] : (parseBag(topic.slice(q + 1)) ?? []));
}

function sameId(wire: string, id: string): boolean {
  if (wire === id) return true;
  try {
    return decodeURIComponent(wire) === id;
  } catch {
    return false;
  }
}

/** Classifies a device's PUBLISH; null for a topic the identity may not publish on. */
export function parseInbound(topic: string, id: Identity): Inbound | null {
  const parts = topic.split('/');
  if (parts[0] === 'devices') {
    if (!sameId(parts[1] ?? '', id.deviceId)) return null;
    let rest: string[];
    let moduleId: string | null = null;
    if (parts[2] === 'modules') {
      if (id.moduleId === null || !sameId(parts[3] ?? '', id.moduleId)) return null;
      moduleId = id.moduleId;
      rest = parts.slice(4);
    } else {
      if (id.moduleId !== null) return null;
      rest = parts.slice(2);
    }
    if (rest[0] !== 'messages' || rest[1] !== 'events') return null;
    const tail = rest.slice(2).filter((s) => s !== '');
    if (tail.length > 1) return null;
    return { kind: 'telemetry', deviceId: id.deviceId, moduleId, bag: tail[0] ?? '' };
  }
  if (parts[0] !== '$iothub') return null;
  const q = query(topic);
  const rid = q.get('$rid');
  const path = (topic.split('?')[0] ?? '').replace(/\/+$/, '');
  if (rid === undefined || rid === '') return null;
  if (path === '$iothub/twin/GET') return { kind: 'twinGet', rid };
  if (path === '$iothub/twin/PATCH/properties/reported') return { kind: 'twinReported', rid };
  const m = /^\$iothub\/methods\/res\/(\d{3})$/.exec(path);
  if (m) return { kind: 'methodResponse', status: Number(m[1]), rid };
  return null;
}

/** The topic filters an identity may subscribe to (exactly what the Azure SDKs use). */
export function allowedFilters(id: Identity): string[] {
  const own = id.moduleId === null ? `devices/${id.deviceId}/messages/devicebound/#` : `devices/${id.deviceId}/modules/${id.moduleId}/inputs/#`;
  return [own, '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/methods/POST/#'];
}

export const FILTER = {
  twinResponse: '$iothub/twin/res/#',
  desired: '$iothub/twin/PATCH/properties/desired/#',
  methods: '$iothub/methods/POST/#',
} as const;

export function c2dFilter(deviceId: string): string {
  return `devices/${deviceId}/messages/devicebound/#`;
}

export function inputFilter(deviceId: string, moduleId: string): string {
  return `devices/${deviceId}/modules/${moduleId}/inputs/#`;
}

export function c2dTopic(deviceId: string, bag: string): string {
  return `devices/${deviceId}/messages/devicebound/${bag}`;
}

export function inputTopic(deviceId: string, moduleId: string, input: string, bag: string): string {
  return `devices/${deviceId}/modules/${moduleId}/inputs/${input}/${bag}`;
}

export function twinResponseTopic(status: number, rid: string, version?: number): string {
  return `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(rid)}` + (version === undefined ? '' : `&$version=${version}`);
}

export function desiredTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

export function methodRequestTopic(name: string, rid: string): string {
  return `$iothub/methods/POST/${name}/?$rid=${encodeURIComponent(rid)}`;
}
