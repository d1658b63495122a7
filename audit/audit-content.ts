/**
 * From an {@link AuditEventInput} to the content the chain stores: sanitised text, bounded
 * integers, JSON-safe change descriptions and keyed subject hashes.
 *
 * PostgreSQL text cannot hold NUL and UTF-8 cannot hold lone surrogates; either would fail the
 * whole batch, or come back different from what was hashed. They are replaced up front.
 */
import type { JsonValue } from '../core/canonical-json.ts';
import { subjectFieldTable, type AuditEventInput } from './audit-event.ts';
import type { EventContent } from './audit-encoding.ts';
import type { HashAlgorithm } from './audit-crypto.ts';

const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const BAD = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function clean(s: string): string {
  return SUSPECT.test(s) ? s.replace(BAD, '\uFFFD') : s;
}
function cleanOpt(s: string | null | undefined): string | null {
  return s === null || s === undefined ? null : clean(String(s));
}

/** The JSON value `value` stands for, as jsonb will store and return it. */
export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (value === null || value === undefined || depth > 64) return null;
  switch (typeof value) {
    case 'string':
      return clean(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1));
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toJsonValue(withToJson.toJSON(), depth + 1);
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[clean(k)] = toJsonValue(v, depth + 1);
  }
  return out;
}

const INT32_MAX = 2_147_483_647;
const toInt = (n: number): number => (Number.isFinite(n) ? Math.min(INT32_MAX, Math.max(0, Math.round(n))) : 0);

/** Where an event is recorded, and how its subjects are hashed: the writer's part of the content. */
export interface ContentContext {
  readonly chainId: string;
  readonly instance: string;
  readonly hashSubject: (idNumber: string) => string;
  /** The chain's hash algorithm (recorded in each event). */
  readonly hashAlgorithm: HashAlgorithm;
  /** When the event carries no valid start time. */
  readonly now: () => Date;
}

/** The content of `event` as this chain stores it (everything but its place in the chain). */
export function eventContent(event: AuditEventInput, context: ContentContext): EventContent {
  const hashes = event.subjects.map((s) => context.hashSubject(String(s)));
  const subjectHashes = [...new Set(hashes)].sort();
  // Per-subject field sets ride in `change`, in hash order: the encoding stays as it is.
  const table = subjectFieldTable(event, hashes, subjectHashes);
  const change = table ? { ...(event.change ?? {}), subjectFields: table } : event.change;
  const startedAt = event.time instanceof Date && !Number.isNaN(event.time.getTime()) ? event.time : context.now();
  return {
    chainId: context.chainId,
    startedAt,
    durationMs: toInt(event.durationMs),
    actorSub: cleanOpt(event.actor.sub),
    actorOrg: cleanOpt(event.actor.org),
    actorRoles: event.actor.roles.map((r) => clean(String(r))),
    purpose: cleanOpt(event.purpose),
    operationType: clean(String(event.operationType)),
    operationName: cleanOpt(event.operationName),
    operationHash: cleanOpt(event.operationHash),
    fields: event.fields.map((f) => clean(String(f))),
    decision: clean(String(event.decision)),
    reason: cleanOpt(event.reason),
    rows: toInt(event.rows),
    subjectHashes,
    change: change === undefined || change === null ? null : toJsonValue(change),
    requestId: clean(String(event.requestId)),
    instance: context.instance,
    hashAlg: context.hashAlgorithm,
    caseRef: cleanOpt(event.caseRef),
  };
}
