/**
 * The one error the admin operations throw for bad input: the CLI prints its message and
 * exits 2; the admin API answers 400 (404 or 409 by `kind`) with the same message.
 *
 * @module
 */

/** Bad input from an admin (a typo in an address, an unknown user, a duplicate). */
export class UsageError extends Error {
  constructor(
    message: string,
    /** How the API answers it: 400, 404 or 409. The CLI exits 2 for each. */
    readonly kind: "invalid" | "not_found" | "exists" = "invalid",
  ) {
    super(message);
    this.name = "UsageError";
  }
}
