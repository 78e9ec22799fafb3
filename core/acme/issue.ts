/**
 * One certificate order, start to finish (RFC 8555 §7.4): account, order, one challenge
 * per authorization (HTTP-01 §8.3 or TLS-ALPN-01 RFC 8737), finalize with a CSR for the
 * certificate's P-256 key, download the chain.
 *
 * @module
 */
import type { AcmeConfig } from "../config.ts";
import { AcmeClient, AcmeError, type Authorization } from "./client.ts";
import type { AcmeChallenges } from "./challenges.ts";
import { buildCsr, challengeCertificate } from "./csr.ts";
import { EcKey } from "./jws.ts";
import { log } from "../../lib/log.ts";

const POLL_DEADLINE_MS = 120_000;
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

export interface Issued {
  certPem: string;
  keyPem: string;
}

export async function issueCertificate(
  cfg: AcmeConfig,
  accountKey: EcKey,
  challenges: AcmeChallenges,
  now: () => number,
  /** The certificate's key; a fresh P-256 key when absent. */
  certKey: EcKey = EcKey.generate(),
): Promise<Issued> {
  const caPem = cfg.caFile ? await Deno.readTextFile(cfg.caFile) : null;
  const client = new AcmeClient(cfg.directory, accountKey, caPem);
  try {
    await client.account(cfg.email);
    const { url, order } = await client.newOrder(cfg.domains);
    for (const authzUrl of order.authorizations) {
      await authorize(client, authzUrl, cfg.challenge, challenges, now);
    }
    let current = await poll(() => client.order(url), (o) => o.status !== "pending");
    // "valid" already would be a certificate for someone else's key: only "ready" will do.
    if (current.status !== "ready") {
      throw new AcmeError(`order is ${current.status}: ${current.error?.detail ?? ""}`);
    }
    await client.finalize(
      current.finalize,
      buildCsr(cfg.domains, certKey.privateKey, certKey.publicKey),
    );
    current = await poll(
      () => client.order(url),
      (o) => o.status !== "processing" && o.status !== "ready",
    );
    if (current.status !== "valid" || !current.certificate) {
      throw new AcmeError(
        `order is ${current.status} after finalize: ${current.error?.detail ?? ""}`,
      );
    }
    return { certPem: await client.certificate(current.certificate), keyPem: certKey.toPem() };
  } finally {
    client.close();
  }
}

async function authorize(
  client: AcmeClient,
  url: string,
  type: AcmeConfig["challenge"],
  challenges: AcmeChallenges,
  now: () => number,
): Promise<void> {
  const authz = await client.authorization(url);
  if (authz.status === "valid") return;
  const domain = authz.identifier?.value;
  const ch = authz.challenges.find((c) => c.type === type);
  if (!ch || typeof ch.token !== "string" || !TOKEN.test(ch.token) || typeof domain !== "string") {
    throw new AcmeError(`authorization for ${domain}: no usable ${type} challenge`);
  }
  const keyAuth = client.keyAuthorization(ch.token);
  let key: EcKey | null = null;
  if (type === "http-01") challenges.addHttp(ch.token, keyAuth);
  else {
    key = EcKey.generate();
    const cert = challengeCertificate(domain, keyAuth, key.privateKey, key.publicKey, now());
    challenges.addAlpn(domain, cert, key.privateKey);
  }
  try {
    await client.respond(ch.url);
    const done = await poll(() => client.authorization(url), (a) => a.status !== "pending");
    if (done.status !== "valid") {
      throw new AcmeError(`authorization for ${domain} is ${done.status}: ${problem(done)}`);
    }
    log.info("acme", `${type} validated ${domain}`);
  } finally {
    if (type === "http-01") challenges.removeHttp(ch.token);
    else challenges.removeAlpn(domain);
  }
}

function problem(a: Authorization): string {
  const c = a.challenges.find((c) => c.error);
  return c?.error?.detail ?? c?.error?.type ?? "no detail";
}

/** Polls until `done` (the server's pace: 0.25 s doubling to 4 s), at most 2 minutes. */
async function poll<T>(get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + POLL_DEADLINE_MS;
  let wait = 250;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new AcmeError("timed out waiting for the ACME server");
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 4000);
  }
}
