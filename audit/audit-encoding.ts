/**
 * The canonical encoding of an audit event and its hash: what the writer hashes and stores, and
 * what the verifier recomputes. Both build the same bytes through these functions.
 *
 * The writer sends each event as its canonical encoding itself with its hash in front
 * (`{"hash":"…",` + the canonical JSON without its `{`), so the stored row is read from exactly the
 * bytes that were hashed (`audit-batch-bytes.ts` writes it); `audit_append` (migration 0003) maps the
 * canonical keys onto the columns.
 */
import { canonicalJson } from '../core/canonical-json.ts';
import { digestHex, hashAlgorithmOf, type HashAlgorithm } from './audit-crypto.ts';
import type { AuditRecord } from './audit-rows.ts';

/** `prevHash` of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
/** A string array as JSON (one native call; the same text as mapping JSON.stringify over it). */
const strs = (a: readonly string[]): string => JSON.stringify(a);

/** The fields of an event that do not depend on its place in the chain. */
export type EventContent = Omit<AuditRecord, 'seq' | 'prevHash' | 'hash' | 'time'>;

/**
 * The canonical encoding around the three values known only when the writer places the event in
 * the chain: `head + prevHash + middle + seq + tail + time + END`. Shared by the writer (which
 * builds the pieces once per event, at append time) and the verifier, so both produce the same
 * bytes by construction.
 */
export interface CanonicalPieces {
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
}
export const CANONICAL_END = '","v":1}';

/**
 * Each field of an event's content as JSON text (canonical for `change`); `hashAlg` as the whole
 * `,"hashAlg":"sm3"` member, or nothing for SHA-256 (whose events never carried the member).
 */
type EncodedContent = { readonly [K in keyof EventContent]: string };

export function encodeContent(r: EventContent, startedAtIso: string): EncodedContent {
  return {
    chainId: str(r.chainId),
    startedAt: str(startedAtIso),
    durationMs: String(r.durationMs),
    actorSub: str(r.actorSub),
    actorOrg: str(r.actorOrg),
    actorRoles: strs(r.actorRoles),
    purpose: str(r.purpose),
    operationType: str(r.operationType),
    operationName: str(r.operationName),
    operationHash: str(r.operationHash),
    fields: strs(r.fields),
    hashAlg: r.hashAlg === 'sha256' ? '' : `,"hashAlg":${str(r.hashAlg)}`,
    decision: str(r.decision),
    reason: str(r.reason),
    rows: String(r.rows),
    subjectHashes: strs(r.subjectHashes),
    change: canonicalJson(r.change),
    requestId: str(r.requestId),
    instance: str(r.instance),
    caseRef: r.caseRef == null ? '' : `,"caseRef":${str(r.caseRef)}`,
  };
}

export function canonicalPieces(e: EncodedContent): CanonicalPieces {
  return {
    head:
      `{"actorOrg":${e.actorOrg},"actorRoles":${e.actorRoles},"actorSub":${e.actorSub}${e.caseRef},"chainId":${e.chainId}` +
      `,"change":${e.change},"decision":${e.decision},"durationMs":${e.durationMs},"fields":${e.fields}${e.hashAlg}` +
      `,"instance":${e.instance},"operationHash":${e.operationHash},"operationName":${e.operationName}` +
      `,"operationType":${e.operationType},"prevHash":"`,
    middle: `","purpose":${e.purpose},"reason":${e.reason},"requestId":${e.requestId},"rows":${e.rows},"seq":`,
    tail: `,"startedAt":${e.startedAt},"subjectHashes":${e.subjectHashes},"time":"`,
  };
}

/**
 * The canonical encoding (version 1) of an event, the input of its hash: exactly
 * {@link canonicalJson} of this object (keys in sorted order), times as ISO-8601 UTC with
 * milliseconds, hashes as lower-case hex:
 *
 * `{actorOrg, actorRoles, actorSub, [caseRef,] chainId, change, decision, durationMs, fields, [hashAlg,]
 *   instance, operationHash, operationName, operationType, prevHash, purpose, reason, requestId,
 *   rows, seq, startedAt, subjectHashes, time, v: 1}`
 *
 * `hashAlg` is there only when the event is hashed with SM3 (`"sm3"`): the algorithm is then part
 * of what is hashed, and SHA-256 events keep exactly the bytes they always had.
 * `caseRef` (X-Case-Ref) likewise only when the event carries one.
 *
 * It is written out piecewise because the writer runs it once per event on the hot path; a test
 * checks it equals the generic form.
 */
export function canonicalEncoding(r: Omit<AuditRecord, 'hash'>): string {
  const p = canonicalPieces(encodeContent(r, r.startedAt.toISOString()));
  return `${p.head}${r.prevHash}${p.middle}${r.seq}${p.tail}${r.time.toISOString()}${CANONICAL_END}`;
}

/** Lower-case hex digest of the event's canonical encoding (UTF-8), with the event's own algorithm. */
export function eventHash(r: Omit<AuditRecord, 'hash'>): string {
  // A stored algorithm name that is neither: no hash matches it (the event reads as altered).
  if (hashAlgorithmOf(r.hashAlg) === undefined) return `unknown hash algorithm ${String(r.hashAlg)}`;
  return digestHex(r.hashAlg, canonicalEncoding(r));
}
