/**
 * What every admin page is given: the bearer token, and `fail`, which ends the session on
 * 401 or shows the refusal on 403 (true when it handled the error).
 *
 * @module
 */
export interface Session {
  token: string;
  fail: (e: Error) => boolean;
}
