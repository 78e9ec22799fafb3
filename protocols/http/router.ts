/**
 * A small router for the web listeners: exact paths and path prefixes, each with the
 * methods it answers, and the headers every response carries.
 *
 * Invariants:
 * - Every response leaves through `handle`, which sets the security headers (nothing is
 *   cached by intermediaries, no MIME sniffing, no Referer leaks): a handler cannot forget.
 * - Routes are data given at start; nothing from a client becomes a pattern.
 *
 * @module
 */
import { log } from "../../lib/log.ts";

/** One request as the handlers see it. */
export interface WebRequest {
  req: Request;
  url: URL;
  /** The client's address ("::ffff:" stripped). */
  ip: string;
  /** True on the https listener. */
  secure: boolean;
  /** Short id for the log lines of this request. */
  id: string;
}

export type WebHandler = (r: WebRequest) => Promise<Response> | Response;

interface Route {
  methods: ReadonlySet<string>;
  handler: WebHandler;
}

/** Headers on every response (CONTRACT: responses are never cached by intermediaries). */
const SECURITY_HEADERS: ReadonlyArray<[string, string]> = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
  ["x-frame-options", "DENY"],
];

/** Adds the security headers; `cache-control: no-store` unless the handler chose one. */
export function withSecurityHeaders(res: Response): Response {
  let out = res;
  try {
    res.headers.set("x-content-type-options", "nosniff");
  } catch {
    // Immutable headers (Response.redirect, a fetched response): copy into a new one.
    out = new Response(res.body, res);
  }
  for (const [k, v] of SECURITY_HEADERS) out.headers.set(k, v);
  if (!out.headers.has("cache-control")) out.headers.set("cache-control", "no-store");
  return out;
}

/** A plain-text response. */
export function text(status: number, body: string, headers: HeadersInit = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

export class Router {
  #exact = new Map<string, Route>();
  #prefixes: Array<Route & { prefix: string }> = [];
  #onStop: Array<() => void> = [];

  /** Registers what ends long-lived responses (push streams) when a listener stops. */
  onStop(fn: () => void): this {
    this.#onStop.push(fn);
    return this;
  }

  /** Ends long-lived responses, so a listener's graceful shutdown does not wait on them. */
  stopStreams(): void {
    for (const f of this.#onStop) f();
  }

  /** Answers `path` exactly. HEAD is allowed wherever GET is. */
  route(path: string, methods: string[], handler: WebHandler): this {
    this.#exact.set(path, { methods: withHead(methods), handler });
    return this;
  }

  /** Answers every path under `prefix` (which ends in "/"); longest prefix wins. */
  prefix(prefix: string, methods: string[], handler: WebHandler): this {
    this.#prefixes.push({ prefix, methods: withHead(methods), handler });
    this.#prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  async handle(r: WebRequest): Promise<Response> {
    const route = this.#exact.get(r.url.pathname) ??
      this.#prefixes.find((p) => r.url.pathname.startsWith(p.prefix));
    let res: Response;
    if (!route) {
      res = text(404, "not found\n");
    } else if (!route.methods.has(r.req.method)) {
      res = text(405, "method not allowed\n", { allow: [...route.methods].join(", ") });
    } else {
      try {
        res = await route.handler(r);
      } catch (e) {
        log.error("http", `request failed: ${(e as Error).message}`, {
          session: r.id,
          path: r.url.pathname.slice(0, 200),
        });
        res = text(500, "internal error\n");
      }
    }
    return withSecurityHeaders(res);
  }
}

function withHead(methods: string[]): ReadonlySet<string> {
  const s = new Set(methods);
  if (s.has("GET")) s.add("HEAD");
  return s;
}
