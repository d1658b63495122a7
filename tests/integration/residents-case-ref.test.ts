/**
 * X-Case-Ref inside the hashed event: the member is there only when the event carries one (events
 * without keep the bytes and hashes they always had), in its sorted place, with either hash algorithm.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonValue } from '../../core/canonical-json.ts';
import { canonicalEncoding } from '../../audit/audit-encoding.ts';
import type { AuditRecord } from '../../audit/audit-rows.ts';
import { recordedCaseRef } from '../../core/case-reference.ts';

const base: Omit<AuditRecord, 'hash'> = {
  chainId: 'gw-1',
  seq: 7,
  prevHash: '0'.repeat(64),
  time: new Date('2026-12-01T08:00:00.000Z'),
  startedAt: new Date('2026-12-01T07:59:59.990Z'),
  durationMs: 10,
  actorSub: 'clerk-1',
  actorOrg: 'street:310101002',
  actorRoles: ['street_staff'],
  purpose: 'elderly-allowance',
  operationType: 'query',
  operationName: null,
  operationHash: null,
  fields: ['population.name'],
  decision: 'allow',
  reason: null,
  rows: 1,
  subjectHashes: ['ab'],
  change: null,
  requestId: 'r-1',
  instance: 'gw-1',
  hashAlg: 'sha256',
};

const generic = (r: Omit<AuditRecord, 'hash'>): { [key: string]: JsonValue } => {
  const { hashAlg, caseRef, ...rest } = r;
  return {
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : (v as JsonValue)])),
    ...(hashAlg === 'sha256' ? {} : { hashAlg }),
    ...(caseRef == null ? {} : { caseRef }),
    v: 1,
  };
};

describe('the case reference in the canonical encoding', () => {
  it.each([
    ['no case reference', undefined, 'sha256'],
    ['a null one', null, 'sha256'],
    ['one', 'HP-2026-0042', 'sha256'],
    ['one with quotes and Chinese', '黄浦"案"-1', 'sha256'],
    ['one under SM3', 'HP-2026-0042', 'sm3'],
  ] as const)('with %s (%s)', (_what, caseRef, hashAlg) => {
    const record = { ...base, caseRef, hashAlg } as Omit<AuditRecord, 'hash'>;
    expect(canonicalEncoding(record)).toBe(canonicalJson(generic(record)));
    if (caseRef == null) expect(canonicalEncoding(record)).toBe(canonicalEncoding(base));
    else expect(canonicalEncoding(record)).toContain(`"actorSub":"clerk-1","caseRef":${JSON.stringify(caseRef)},"chainId"`);
  });

  it('records only what a case number may hold', () => {
    expect(recordedCaseRef('  HP-1 ')).toBe('HP-1');
    expect(recordedCaseRef('a\u0000b\nc')).toBe('abc');
    expect(recordedCaseRef('x'.repeat(100))).toHaveLength(64);
    expect(recordedCaseRef('for 310101194511036017 call 13812345678')).toBe('for [id-number] call [phone]');
    expect(recordedCaseRef('   ')).toBeNull();
    expect(recordedCaseRef(undefined)).toBeNull();
  });
});
