/**
 * IP addresses and CIDR networks, parsed by hand (no RegExp built from input), for
 * `auth.throttle_exempt` and for grouping IPv6 clients by /64 in the throttle.
 *
 * @module
 */

/** 4 bytes (IPv4) or 16 bytes (IPv6); IPv4-mapped IPv6 ("::ffff:1.2.3.4") becomes IPv4. */
export function parseIp(text: string): Uint8Array | null {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return parseIpv4(s);
  const v6 = parseIpv6(s);
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3 || ![...p].every((c) => c >= "0" && c <= "9")) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (p.length === 0 || p.length > 4 || !/^[0-9a-fA-F]+$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** One network: an address and a prefix length. */
export interface Network {
  bytes: Uint8Array;
  prefix: number;
}

/** "10.0.0.0/8", "::1", "2001:db8::/32", "192.0.2.7" -> Network, or null when malformed. */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf("/");
  const bytes = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return null;
  return { bytes, prefix: Number(p) };
}

function inNetwork(addr: Uint8Array, net: Network): boolean {
  if (addr.length !== net.bytes.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (net.bytes[i] & mask)) return false;
  }
  return true;
}

/** A list of networks; `has` answers whether an address is in any of them. */
export class NetworkList {
  readonly #nets: Network[];
  constructor(specs: readonly string[]) {
    this.#nets = specs.map((s) => {
      const n = parseNetwork(s);
      if (!n) throw new Error(`not an address or network: ${s}`);
      return n;
    });
  }

  has(address: string): boolean {
    const a = parseIp(address);
    return !!a && this.#nets.some((n) => inNetwork(a, n));
  }
}

/**
 * The key one client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber
 * usually gets a whole /64, so counting single IPv6 addresses would be no limit at all).
 */
export function clientKey(address: string): string {
  const a = parseIp(address);
  if (!a) return address;
  if (a.length === 4) return a.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}
