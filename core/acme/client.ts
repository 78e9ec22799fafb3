/**
 * An ACME client (RFC 8555): directory, nonces, account, orders, authorizations,
 * challenges, finalization and certificate download. Every request is a JWS POST
 * (§6.2; POST-as-GET for reads, §6.3); a `badNonce` is retried once with the fresh nonce
 * the error carries (§6.5). Responses are size-capped and type-checked before use.
 *
 * @module
 */
import { b64url, type EcKey } from "./jws.ts";

const MAX_RESPONSE_BYTES = 1 << 20;
const REQUEST_TIMEOUT_MS = 30_000;

/** An error document from the server (RFC 7807 / RFC 8555 §6.7), or a protocol failure. */
export class AcmeError extends Error {
  constructor(message: string, readonly type = "", readonly status = 0) {
    super(message);
    this.name = "AcmeError";
  }
}

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
}

export interface Order {
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: { type?: string; detail?: string };
}

export interface Challenge {
  type: string;
  url: string;
  token: string;
  status: string;
  error?: { type?: string; detail?: string };
}

export interface Authorization {
  status: string;
  identifier: { type: string; value: string };
  challenges: Challenge[];
}

interface Reply {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export class AcmeClient {
  #directoryUrl: string;
  #key: EcKey;
  #client: Deno.HttpClient | undefined;
  #dir: Directory | null = null;
  #nonce: string | null = null;
  #kid: string | null = null;

  constructor(directoryUrl: string, key: EcKey, caPem: string | null) {
    this.#directoryUrl = directoryUrl;
    this.#key = key;
    this.#client = caPem ? Deno.createHttpClient({ caCerts: [caPem] }) : undefined;
  }

  close(): void {
    this.#client?.close();
  }

  async #fetch(url: string, init: RequestInit): Promise<Reply> {
    const res = await fetch(url, {
      ...init,
      client: this.#client,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    } as RequestInit);
    const nonce = res.headers.get("replay-nonce");
    if (nonce && /^[A-Za-z0-9_-]+$/.test(nonce)) this.#nonce = nonce;
    return { status: res.status, headers: res.headers, body: await readCapped(res) };
  }

  async directory(): Promise<Directory> {
    if (this.#dir) return this.#dir;
    const r = await this.#fetch(this.#directoryUrl, { method: "GET" });
    if (r.status !== 200) throw new AcmeError(`directory: HTTP ${r.status}`, "", r.status);
    const d = json(r) as Record<string, unknown>;
    for (const k of ["newNonce", "newAccount", "newOrder"]) {
      if (typeof d[k] !== "string") throw new AcmeError(`directory: no ${k}`);
    }
    return this.#dir = d as unknown as Directory;
  }

  async #freshNonce(): Promise<string> {
    if (this.#nonce) {
      const n = this.#nonce;
      this.#nonce = null;
      return n;
    }
    const dir = await this.directory();
    await this.#fetch(dir.newNonce, { method: "HEAD" });
    const n = this.#nonce;
    this.#nonce = null;
    if (!n) throw new AcmeError("newNonce: no Replay-Nonce header");
    return n;
  }

  /** A signed POST; `payload` "" is POST-as-GET. Throws AcmeError on a problem document. */
  async post(url: string, payload: unknown | "", useJwk = false): Promise<Reply> {
    for (let attempt = 0;; attempt++) {
      const jws = this.#key.jws(url, await this.#freshNonce(), payload, useJwk ? null : this.#kid);
      const r = await this.#fetch(url, {
        method: "POST",
        headers: { "content-type": "application/jose+json" },
        body: JSON.stringify(jws),
      });
      if (r.status < 400) return r;
      const problem = safeJson(r) as { type?: string; detail?: string } | null;
      const type = typeof problem?.type === "string" ? problem.type.slice(0, 100) : "";
      if (type === "urn:ietf:params:acme:error:badNonce" && attempt < 2) continue;
      // The server's words go into our log: one line, bounded.
      const detail = typeof problem?.detail === "string"
        ? problem.detail.replace(/[^ -~\u00a0-\uffff]/g, " ").slice(0, 300)
        : "";
      throw new AcmeError(`${url}: HTTP ${r.status} ${type} ${detail}`.trim(), type, r.status);
    }
  }

  /** Creates the account, or finds the one of this key (§7.3, §7.3.1); returns its URL. */
  async account(email: string | null): Promise<string> {
    const dir = await this.directory();
    const payload: Record<string, unknown> = { termsOfServiceAgreed: true };
    if (email) payload.contact = [`mailto:${email}`];
    const r = await this.post(dir.newAccount, payload, true);
    const kid = r.headers.get("location");
    if (!kid) throw new AcmeError("newAccount: no Location header");
    return this.#kid = kid;
  }

  async newOrder(domains: string[]): Promise<{ url: string; order: Order }> {
    const dir = await this.directory();
    const r = await this.post(dir.newOrder, {
      identifiers: domains.map((value) => ({ type: "dns", value })),
    });
    const url = r.headers.get("location");
    if (!url) throw new AcmeError("newOrder: no Location header");
    return { url, order: checkOrder(json(r)) };
  }

  async order(url: string): Promise<Order> {
    return checkOrder(json(await this.post(url, "")));
  }

  async authorization(url: string): Promise<Authorization> {
    const a = json(await this.post(url, "")) as Authorization;
    if (typeof a?.status !== "string" || !Array.isArray(a.challenges)) {
      throw new AcmeError(`${url}: not an authorization`);
    }
    return a;
  }

  /** Tells the server the challenge is ready (§7.5.1: an empty JSON object). */
  async respond(challengeUrl: string): Promise<void> {
    await this.post(challengeUrl, {});
  }

  async finalize(finalizeUrl: string, csrDer: Uint8Array): Promise<Order> {
    return checkOrder(json(await this.post(finalizeUrl, { csr: b64url(csrDer) })));
  }

  /** The certificate chain, PEM (§7.4.2). */
  async certificate(url: string): Promise<string> {
    const r = await this.post(url, "");
    const pem = new TextDecoder().decode(r.body);
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new AcmeError(`${url}: not a PEM certificate chain`);
    }
    return pem;
  }

  /** Key authorization of a challenge token (§8.1). */
  keyAuthorization(token: string): string {
    return `${token}.${this.#key.thumbprint}`;
  }
}

async function readCapped(res: Response): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += chunk.length;
    if (n > MAX_RESPONSE_BYTES) {
      await res.body.cancel().catch(() => {});
      throw new AcmeError(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    parts.push(chunk);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function safeJson(r: Reply): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(r.body));
  } catch {
    return null;
  }
}

function json(r: Reply): unknown {
  const v = safeJson(r);
  if (v === null || typeof v !== "object") throw new AcmeError("response is not a JSON object");
  return v;
}

function checkOrder(o: unknown): Order {
  const order = o as Order;
  if (
    typeof order?.status !== "string" || !Array.isArray(order.authorizations) ||
    typeof order.finalize !== "string"
  ) throw new AcmeError("not an order object");
  return order;
}
