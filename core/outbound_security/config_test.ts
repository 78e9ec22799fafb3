import assert from "node:assert/strict";
import { ConfigError, configFromObject } from "../config.ts";

Deno.test("config: [delivery] TLS policy keys and [reports]", () => {
  const c = configFromObject({ hostname: "mx.example.test" }, "/tmp");
  assert.equal(c.delivery.mtaSts, true);
  assert.equal(c.delivery.dane, true);
  assert.equal(c.delivery.tlsCaFile, null);
  assert.equal(c.delivery.mtaStsHttpsPort, 443);
  assert.deepEqual(c.reports, {
    tlsRpt: false,
    dmarcAggregate: false,
    orgName: "mx.example.test",
    from: "postmaster@mx.example.test",
  });
  assert.throws(
    () => configFromObject({ delivery: { tls_ca_file: "no/such/ca.pem" } }, "/tmp"),
    (e: Error) => e instanceof ConfigError && /delivery\.tls_ca_file: cannot read/.test(e.message),
  );
  assert.throws(
    () => configFromObject({ reports: { from: "not an address" } }, "/tmp"),
    (e: Error) => e instanceof ConfigError && /reports\.from/.test(e.message),
  );
  assert.throws(
    () => configFromObject({ reports: { tls_rpt: "yes" } }, "/tmp"),
    (e: Error) => e instanceof ConfigError && /reports\.tls_rpt/.test(e.message),
  );
  assert.throws(
    () => configFromObject({ reports: { nope: 1 } }, "/tmp"),
    (e: Error) => e instanceof ConfigError && /reports\.nope/.test(e.message),
  );
});
