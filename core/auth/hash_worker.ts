/**
 * The password-hashing worker: runs argon2id (hash-wasm) off the main thread, so that a
 * flood of logins cannot stall every other client's session (issue 13, item 4).
 *
 * Protocol: `{ id, op: "verify", hash, password }` -> `{ id, ok: boolean }`;
 * `{ id, op: "hash", password }` -> `{ id, hash: string }`; failures -> `{ id, error }`.
 *
 * @module
 */
import { argon2id, argon2Verify } from "hash-wasm";
import { ARGON2_PARAMS } from "./params.ts";

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

type Job =
  | { id: number; op: "verify"; hash: string; password: string }
  | { id: number; op: "hash"; password: string };

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = async (e: MessageEvent) => {
  const job = e.data as Job;
  try {
    if (job.op === "verify") {
      // A malformed stored hash is a wrong password, not a crash.
      const ok = job.hash.startsWith("$argon2id$")
        ? await argon2Verify({ password: job.password, hash: job.hash }).catch(() => false)
        : false;
      scope.postMessage({ id: job.id, ok });
    } else {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const hash = await argon2id({
        ...ARGON2_PARAMS,
        password: job.password,
        salt,
        outputType: "encoded",
      });
      scope.postMessage({ id: job.id, hash });
    }
  } catch (err) {
    scope.postMessage({ id: job.id, error: String((err as Error)?.message ?? err) });
  }
};
