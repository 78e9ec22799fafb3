/**
 * Outbound delivery: the queue runner and what it is built from.
 *
 * @module
 */
export { QueueRunner, type RunnerDeps } from "./runner.ts";
export type { SmtpSender, SmtpSession } from "./sender.ts";
export { DeliveryError, NetworkError } from "./failure.ts";
export { DkimSigner, dkimTxtRecord, generateDkimKey, loadDkimKey, saveDkimKey } from "./dkim.ts";
export { buildDsn } from "./dsn.ts";
export { hostAddresses, mxHosts } from "./mx.ts";
