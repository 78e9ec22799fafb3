import assert from "node:assert/strict";
import { AUTH_SECRET_FILE, loadAuthSecret } from "./secret.ts";

Deno.test("auth secret: created once with mode 0600, then read back unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-secret-" });
  try {
    const [a, b] = await Promise.all([loadAuthSecret(dir), loadAuthSecret(dir)]);
    assert.equal(a.length, 32);
    assert.deepEqual(a, b, "two starts at once agree on one secret");
    assert.deepEqual(await loadAuthSecret(dir), a);
    assert.equal((await Deno.stat(`${dir}/${AUTH_SECRET_FILE}`)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [AUTH_SECRET_FILE]);
    await Deno.writeFile(`${dir}/${AUTH_SECRET_FILE}`, new Uint8Array(3));
    await assert.rejects(loadAuthSecret(dir), /too short/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
