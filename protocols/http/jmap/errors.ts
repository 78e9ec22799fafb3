/**
 * JMAP errors: request-level problems (RFC 8620 §3.6.1, sent as RFC 7807 problem details
 * with an HTTP error status) and method-level errors (§3.6.2, an "error" response in
 * methodResponses; the other calls of the request still run).
 *
 * @module
 */

const URN = "urn:ietf:params:jmap:error:";

/** RFC 8620 §3.6.1 request-level error types. */
export const RequestError = {
  unknownCapability: `${URN}unknownCapability`,
  notJSON: `${URN}notJSON`,
  notRequest: `${URN}notRequest`,
  limit: `${URN}limit`,
} as const;

/** A problem details response (RFC 7807), e.g. `problem(400, "notJSON", "…")`. */
export function problem(
  status: number,
  type: keyof typeof RequestError,
  detail: string,
  extra: Record<string, unknown> = {},
): Response {
  return new Response(
    JSON.stringify({ type: RequestError[type], status, detail, ...extra }),
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

/** RFC 8620 §3.7 / §3.6.2 / §5 method-level error types used so far. */
export type MethodErrorType =
  | "serverUnavailable"
  | "serverFail"
  | "serverPartialFail"
  | "unknownMethod"
  | "invalidArguments"
  | "invalidResultReference"
  | "forbidden"
  | "accountNotFound"
  | "accountNotSupportedByMethod"
  | "accountReadOnly"
  | "requestTooLarge"
  | "cannotCalculateChanges"
  | "anchorNotFound"
  | "unsupportedSort"
  | "unsupportedFilter"
  | "tooManyChanges"
  | "stateMismatch"
  | "fromAccountNotFound";

/** Thrown by a method; the API turns it into `["error", {type, description}, callId]`. */
export class MethodError extends Error {
  constructor(readonly type: MethodErrorType, description?: string) {
    super(description ?? type);
    this.name = "MethodError";
  }

  /** The error response's arguments. */
  toArgs(): Record<string, unknown> {
    return this.message === this.type
      ? { type: this.type }
      : { type: this.type, description: this.message };
  }
}

/** Shorthand for the most common error. */
export function invalidArguments(description: string): MethodError {
  return new MethodError("invalidArguments", description);
}

/** RFC 8620 §5.3 SetError: why one object of a /set (or /copy, /import) was not written. */
export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
  /** alreadyExists (RFC 8620 §5.4): the object that has the name already. */
  existingId?: string;
}

/** Thrown inside one object's write; the /set method reports it for that object only. */
export class SetFailure extends Error {
  constructor(
    readonly type: string,
    description?: string,
    readonly properties?: string[],
    readonly existingId?: string,
  ) {
    super(description ?? type);
    this.name = "SetFailure";
  }

  toSetError(): SetError {
    return {
      type: this.type,
      ...(this.message !== this.type ? { description: this.message } : {}),
      ...(this.properties ? { properties: this.properties } : {}),
      ...(this.existingId ? { existingId: this.existingId } : {}),
    };
  }
}
