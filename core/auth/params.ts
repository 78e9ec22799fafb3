/**
 * Password-hash parameters shared by the main thread and the hashing workers.
 *
 * @module
 */

/** argon2id with OWASP's parameters: m=19 MiB, t=2, p=1. */
export const ARGON2_PARAMS = { parallelism: 1, iterations: 2, memorySize: 19456, hashLength: 32 };

/**
 * PBKDF2 rounds of new SCRAM-SHA-256 verifiers (RFC 7677 §4 recommends at least 4096).
 * A made-up challenge for an unknown user uses the same count, so it looks like a real one.
 */
export const SCRAM_ITERATIONS = 4096;
