/**
 * Size limits both backends enforce the same way.
 *
 * @module
 */

/** Largest JMAP record document kept (a thousand submissions with their envelopes fit easily). */
export const MAX_JMAP_RECORD_BYTES = 4 * 1024 * 1024;
