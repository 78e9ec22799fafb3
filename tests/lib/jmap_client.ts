/**
 * A small JMAP client for the tests: HTTP requests written as RFC 8620's examples show
 * them, with `fetch`, over http (loopback) or https (trusting the test certificate).
 *
 * @module
 */

export const CORE = "urn:ietf:params:jmap:core";
export const MAIL = "urn:ietf:params:jmap:mail";

// deno-lint-ignore no-explicit-any
export type Json = any;

/** "Basic base64(user:password)" (RFC 7617). */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export class JmapClient {
  constructor(
    readonly base: string,
    readonly authorization: string,
    readonly client?: Deno.HttpClient,
  ) {}

  /** A raw request to `path` (relative to base) with our credentials. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", this.authorization);
    return fetch(`${this.base}${path}`, {
      ...init,
      headers,
      ...(this.client ? { client: this.client } : {}),
    } as RequestInit);
  }

  async session(): Promise<Json> {
    const r = await this.fetch("/.well-known/jmap");
    if (r.status !== 200) throw new Error(`session: ${r.status} ${await r.text()}`);
    return await r.json();
  }

  /** POSTs a raw body to the API; returns status and parsed JSON. */
  async post(body: string | Uint8Array): Promise<{ status: number; json: Json; res: Response }> {
    const res = await this.fetch("/jmap/api/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body as BodyInit,
    });
    const textBody = await res.text();
    let json: Json = null;
    try {
      json = JSON.parse(textBody);
    } catch { /* not JSON: json stays null */ }
    return { status: res.status, json, res };
  }

  /** One API request; returns the methodResponses. */
  async api(methodCalls: Json[], using = [CORE, MAIL]): Promise<Json[]> {
    const { status, json } = await this.post(JSON.stringify({ using, methodCalls }));
    if (status !== 200) throw new Error(`api: ${status} ${JSON.stringify(json)}`);
    return json.methodResponses;
  }
}

/** Sends `message` to `rcpt` through the MX listener with python's smtplib. */
export async function sendWithSmtplib(port: number, from: string, rcpt: string, message: string) {
  const script = `
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as s:
    s.sendmail(sys.argv[2], [sys.argv[3]], sys.stdin.buffer.read())
`;
  const child = new Deno.Command("python3", {
    args: ["-c", script, String(port), from, rcpt],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(message));
  await w.close();
  const out = await child.output();
  if (out.code !== 0) throw new Error(`smtplib: ${new TextDecoder().decode(out.stderr)}`);
}
