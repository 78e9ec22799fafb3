/**
 * A throwaway certificate authority for TLS tests (openssl CLI): a root, and leaf
 * certificates it signs for given DNS names. Files live in a temp dir.
 *
 * @module
 */
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { run } from "../harness.ts";

export interface TestCa {
  dir: string;
  /** The root, PEM file path and text. */
  caFile: string;
  caPem: string;
  /** Issues a P-256 leaf for `names` (first = CN): cert file holds leaf + root (a chain). */
  issue(id: string, names: string[]): Promise<TestLeaf>;
  close(): Promise<void>;
}

export interface TestLeaf {
  certFile: string;
  keyFile: string;
  /** The leaf alone, PEM. */
  leafPem: string;
  /** DER of the leaf's SubjectPublicKeyInfo (TLSA selector 1). */
  spki: Uint8Array;
}

/** Makes a CA in a new temp dir. */
export async function startTestCa(name = "denomail test CA"): Promise<TestCa> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-ca-" });
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "30",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const caPem = await Deno.readTextFile(caFile);
  return {
    dir,
    caFile,
    caPem,
    async issue(id, names) {
      const keyFile = join(dir, `${id}.key`);
      const csr = join(dir, `${id}.csr`);
      const leafFile = join(dir, `${id}.leaf.pem`);
      const certFile = join(dir, `${id}.pem`);
      const ext = join(dir, `${id}.ext`);
      await Deno.writeTextFile(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\n`);
      await run("openssl", [
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        csr,
        "-subj",
        `/CN=${names[0]}`,
      ]);
      await run("openssl", [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caFile,
        "-CAkey",
        caKey,
        "-CAcreateserial",
        "-out",
        leafFile,
        "-days",
        "30",
        "-extfile",
        ext,
      ]);
      const leafPem = await Deno.readTextFile(leafFile);
      await Deno.writeTextFile(certFile, leafPem + caPem);
      const spki = new Uint8Array(
        new X509Certificate(leafPem).publicKey.export({ type: "spki", format: "der" }),
      );
      return { certFile, keyFile, leafPem, spki };
    },
    async close() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
