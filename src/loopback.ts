// Which host names only this machine can reach. Shared by the preview and the IoT Hub emulator,
// whose loopback-only servers refuse a foreign Host header: that is how a DNS-rebinding page,
// which reaches 127.0.0.1 under its own name, is told apart from a local client.
import net from 'node:net';

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The name of a Host header without its port: `[::1]:80` is `[::1]`, `localhost:8884` is `localhost`. */
export function hostHeaderName(header: string): string {
  const bracketed = /^(\[[^\]]*\])(?::\d*)?$/.exec(header);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  return header.replace(/:\d*$/, '');
}

/**
 * True when a request's Host header names this machine. A request without one (HTTP/1.0) passes:
 * browsers always send it, so its absence is no rebinding.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined || header === '') return true;
  return isLoopbackHost(hostHeaderName(header));
}
