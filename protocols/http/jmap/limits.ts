/**
 * The limits JMAP announces in the session resource (RFC 8620 §2, the core capability) and
 * enforces with the RFC's errors. One object, read by the session and by the code that
 * enforces each limit, so the two cannot disagree.
 *
 * @module
 */
import type { Config } from "../../../core/config.ts";

export interface JmapLimits {
  maxSizeUpload: number;
  maxConcurrentUpload: number;
  maxSizeRequest: number;
  maxConcurrentRequests: number;
  maxCallsInRequest: number;
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  /** Not announced: deepest JSON nesting accepted in a request. */
  maxJsonDepth: number;
  /** Not announced: total bytes of pending uploads one account may hold. */
  maxUploadBytesPerAccount: number;
}

/** The limits for a configuration (uploads follow `limits.max_message_bytes`). */
export function jmapLimits(config: Config): JmapLimits {
  const maxSizeUpload = config.limits.maxMessageBytes;
  return {
    maxSizeUpload,
    maxConcurrentUpload: 4,
    maxSizeRequest: 10_000_000,
    maxConcurrentRequests: 4,
    maxCallsInRequest: 64,
    maxObjectsInGet: 1000,
    maxObjectsInSet: 1000,
    maxJsonDepth: 64,
    maxUploadBytesPerAccount: 4 * maxSizeUpload,
  };
}

/** The core capability object (RFC 8620 §2). */
export function coreCapability(l: JmapLimits): Record<string, unknown> {
  return {
    maxSizeUpload: l.maxSizeUpload,
    maxConcurrentUpload: l.maxConcurrentUpload,
    maxSizeRequest: l.maxSizeRequest,
    maxConcurrentRequests: l.maxConcurrentRequests,
    maxCallsInRequest: l.maxCallsInRequest,
    maxObjectsInGet: l.maxObjectsInGet,
    maxObjectsInSet: l.maxObjectsInSet,
    collationAlgorithms: ["i;unicode-casemap", "i;ascii-casemap", "i;octet"],
  };
}
