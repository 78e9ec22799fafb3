/**
 * The server's auth secret: 32 random bytes in `<data_dir>/auth_secret` (mode 0600),
 * created on first start. It keys the made-up SCRAM salts of unknown users, which must be
 * stable per name (or a repeated probe would tell a real account from a missing one) and
 * unpredictable (or anyone could compute them and compare). Several nodes serving one
 * database should share the file, like the DKIM keys.
 *
 * @module
 */
import { join } from "node:path";

export const AUTH_SECRET_FILE = "auth_secret";
const SECRET_BYTES = 32;

/** Reads the secret, creating it (0600, never overwriting one) when missing. */
export async function loadAuthSecret(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, AUTH_SECRET_FILE);
  for (let i = 0; i < 2; i++) {
    try {
      const data = await Deno.readFile(path);
      if (data.length < SECRET_BYTES) {
        throw new Error(`${path}: too short (${data.length} bytes); remove it to make a new one`);
      }
      return data;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // Written aside, then linked into place: two processes starting at once must not each
    // keep their own secret, and neither may read a half-written file.
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(tmp, crypto.getRandomValues(new Uint8Array(SECRET_BYTES)), {
      createNew: true,
      mode: 0o600,
    });
    try {
      await Deno.link(tmp, path);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  throw new Error(`${path}: cannot be read`);
}
