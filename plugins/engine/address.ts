/**
 * Addresses as plugins see them. Pure.
 *
 * @module
 */
import type { Address } from "../sdk.ts";
import { splitMailbox } from "../../mime/address.ts";

/** "local@domain" -> { address, local, domain }; "" is the null sender. */
export function addressOf(address: string): Address {
  const parts = splitMailbox(address);
  return parts ? { address, ...parts } : { address, local: address, domain: "" };
}
