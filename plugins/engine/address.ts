/**
 * Addresses as plugins see them. Pure.
 *
 * @module
 */
import type { Address } from "../sdk.ts";

/** "local@domain" -> { address, local, domain }; "" is the null sender. */
export function addressOf(address: string): Address {
  const at = address.lastIndexOf("@");
  return at < 0
    ? { address, local: address, domain: "" }
    : { address, local: address.slice(0, at), domain: address.slice(at + 1) };
}
