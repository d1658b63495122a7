/**
 * The writer's batch bytes (`encodeBatch`) against the verifier's own form of each event: every row
 * must be the event's canonical encoding with its hash in front, every hash the digest of that
 * encoding's UTF-8 bytes, every event linked to the one before — for any text, including
 * multi-byte characters whose byte length differs from their string length.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeBatch, encodedPieces } from '../../audit/audit-batch-bytes.ts';
import { GENESIS_HASH, canonicalEncoding, canonicalPieces, encodeContent, eventHash, type EventContent } from '../../audit/audit-encoding.ts';
import type { HashAlgorithm } from '../../audit/audit-crypto.ts';

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('南京东路街道', 'a"b\\c', '\u{1F600}', ''));
const nullableText = fc.option(text, { nil: null });

const content = (hashAlg: HashAlgorithm) =>
  fc.record({
    chainId: text,
    startedAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }),
    durationMs: fc.nat(),
    actorSub: nullableText,
    actorOrg: nullableText,
    actorRoles: fc.array(text, { maxLength: 3 }),
    purpose: nullableText,
    operationType: text,
    operationName: nullableText,
    operationHash: nullableText,
    fields: fc.array(text, { maxLength: 4 }),
    decision: text,
    reason: nullableText,
    rows: fc.nat(),
    subjectHashes: fc.array(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 3 }),
    change: fc.oneof(fc.constant(null), fc.record({ emergency: fc.record({ session: text }) })),
    requestId: text,
    instance: text,
    hashAlg: fc.constant(hashAlg),
    caseRef: nullableText,
  }) as fc.Arbitrary<EventContent>;

describe('encodeBatch', () => {
  for (const hashAlg of ['sha256', 'sm3'] as const) {
    it(`writes each event as its canonical encoding with its ${hashAlg} hash in front, chained`, () => {
      fc.assert(
        fc.property(
          fc.array(content(hashAlg), { minLength: 1, maxLength: 6 }),
          fc.nat({ max: 1_000_000_000 }),
          fc.date({ min: new Date('2000-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }),
          (contents, prevSeq, time) => {
            const timeIso = time.toISOString();
            const batch = contents.map((c) => ({ event: encodedPieces(canonicalPieces(encodeContent(c, c.startedAt.toISOString()))) }));
            const prevHash = prevSeq === 0 ? GENESIS_HASH : 'a'.repeat(64);
            const { payload, lastHash } = encodeBatch(batch, hashAlg, prevHash, prevSeq, timeIso);
            let prev = prevHash;
            const expected: string[] = [];
            contents.forEach((c, i) => {
              const record = { ...c, prevHash: prev, seq: prevSeq + i + 1, time };
              const hash = eventHash(record);
              expected.push(`{"hash":"${hash}",${canonicalEncoding(record).slice(1)}`);
              prev = hash;
            });
            expect(payload.toString('utf8')).toBe(`[${expected.join(',')}]`);
            expect(lastHash).toBe(prev);
            const parsed = JSON.parse(payload.toString('utf8')) as Array<{ hash: string; prevHash: string; seq: number }>;
            expect(parsed.map((r) => r.seq)).toEqual(contents.map((_, i) => prevSeq + i + 1));
            expect(parsed[0]!.prevHash).toBe(prevHash);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('encodes an empty batch as an empty array', () => {
    expect(encodeBatch([], 'sha256', GENESIS_HASH, 0, new Date(0).toISOString()).payload.toString()).toBe('[]');
  });

  it('refuses a record time it cannot place (a year beyond 9999)', () => {
    expect(() => encodeBatch([], 'sha256', GENESIS_HASH, 0, '+010000-01-01T00:00:00.000Z')).toThrow(/record time/);
  });
});
