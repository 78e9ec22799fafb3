/**
 * Users' OpenPGP public keys: the check made on upload, and where a key lives in the
 * plugin's key-value area (`plugin:<name>` in the Store, key `key:<address>`).
 *
 * The server holds public keys only: an upload that contains secret key material is
 * refused, so the private key never reaches the server.
 *
 * @module
 */
import * as openpgp from "openpgp";
import { splitMailbox } from "../../../mime/address.ts";

/** A key that cannot be used, with the reason a user can act on. */
export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

/** What `user key show` prints and the upload reports. */
export interface KeyInfo {
  fingerprint: string;
  algorithm: string;
  /** User IDs as written in the key ("Name <a@b>"). */
  userIds: string[];
  created: Date;
  /** null: does not expire. */
  expires: Date | null;
}

/** The kv key under which a user's public key is kept. */
export function kvKeyFor(address: string): string {
  return `key:${address.toLowerCase()}`;
}

/** The addresses to look a key up under: the address, then without its +tag. */
export function lookupAddresses(address: string): string[] {
  const a = address.toLowerCase();
  const parts = splitMailbox(a);
  const plus = parts ? parts.local.indexOf("+") : -1;
  if (!parts || plus < 0) return [a];
  return [a, `${parts.local.slice(0, plus)}@${parts.domain}`];
}

async function readOne(data: Uint8Array): Promise<openpgp.Key> {
  const text = new TextDecoder("latin1").decode(data);
  // openpgp reads only the first armor block of a file: count them ourselves.
  const blocks = text.match(/^-----BEGIN PGP /gm)?.length ?? 0;
  if (blocks > 1) throw new KeyError(`the file holds ${blocks} keys; give exactly one public key`);
  let keys: openpgp.Key[];
  try {
    keys = text.includes("-----BEGIN PGP")
      ? await openpgp.readKeys({ armoredKeys: text })
      : await openpgp.readKeys({ binaryKeys: data });
  } catch (e) {
    throw new KeyError(`not an OpenPGP key (${(e as Error).message})`);
  }
  if (keys.length !== 1) {
    throw new KeyError(`the file holds ${keys.length} keys; give exactly one public key`);
  }
  return keys[0];
}

/** Email addresses of the key's user IDs, lower-cased. */
function emailsOf(key: openpgp.Key): string[] {
  return key.users.flatMap((u) => u.userID?.email ? [u.userID.email.toLowerCase()] : []);
}

/** Facts about a (public) key for display. */
export async function describeKey(key: openpgp.Key): Promise<KeyInfo> {
  const exp = await key.getExpirationTime().catch(() => null);
  const algo = key.getAlgorithmInfo();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    algorithm: algo.curve
      ? `${algo.algorithm} (${algo.curve})`
      : `${algo.algorithm}${algo.bits ? ` ${algo.bits}` : ""}`,
    userIds: key.users.flatMap((u) => u.userID ? [u.userID.userID] : []),
    created: key.getCreationTime(),
    expires: exp instanceof Date ? exp : null,
  };
}

/**
 * Checks an uploaded key for `address` at `now`: exactly one OpenPGP key, public only,
 * self-signatures valid, not revoked or expired, a user ID with that address, and a key
 * (primary or subkey) that can encrypt. Returns the armored public key to store and its
 * facts; throws KeyError with the reason otherwise.
 */
export async function checkPublicKey(
  data: Uint8Array,
  address: string,
  now: Date = new Date(),
): Promise<{ armored: string; info: KeyInfo }> {
  const key = await readOne(data);
  if (key.isPrivate()) {
    throw new KeyError(
      "this is a private key; upload the public key only (gpg --armor --export ADDRESS)",
    );
  }
  try {
    await key.verifyPrimaryKey(now);
  } catch (e) {
    const why = (e as Error).message.replace(/^Error \w+ key: /, "");
    throw new KeyError(`the key is not valid now: ${why}`);
  }
  const want = address.toLowerCase();
  const user = key.users.find((u) => u.userID?.email?.toLowerCase() === want);
  if (!user) {
    const has = emailsOf(key);
    throw new KeyError(
      `the key does not carry ${want} (its addresses: ${has.length ? has.join(", ") : "none"})`,
    );
  }
  try {
    await user.verify(now);
  } catch (e) {
    throw new KeyError(`the user ID for ${want} is not validly signed: ${(e as Error).message}`);
  }
  try {
    await key.getEncryptionKey(undefined, now, { email: want });
  } catch (e) {
    throw new KeyError(`the key cannot encrypt: ${(e as Error).message}`);
  }
  return { armored: key.armor(), info: await describeKey(key) };
}

/** Reads a stored armored public key (as kept by `user key set`). */
export async function readStoredKey(armored: string): Promise<openpgp.PublicKey> {
  return await openpgp.readKey({ armoredKey: armored }) as openpgp.PublicKey;
}
