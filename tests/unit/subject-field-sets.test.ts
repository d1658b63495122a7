/**
 * The fields per subject of an audit event: the builder keeps distinct field sets and an index per
 * subject, canonical (whatever order the operation met its subjects in), only when subjects differ;
 * the stored table, in subject-hash order, gives back exactly each subject's fields.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auditEvent, fieldsForSubject } from '../../audit/audit-event.ts';
import { eventContent } from '../../audit/audit-content.ts';

const origin = { requestId: 'r-1', started: Date.now(), viewer: { sub: 'clerk', org: 'street:310101002', roles: ['street_staff' as const] }, purpose: 'elderly-allowance' };
const hashSubject = (id: string) => createHmac('sha256', 'k').update(id).digest('hex');
const context = { chainId: 'c', instance: 'i', hashSubject, hashAlgorithm: 'sha256' as const, now: () => new Date() };
const FIELDS = ['population.name', 'population.phone', 'housing.ownerName', 'housing.id'];

/** What a reader of the stored event gives for `id`. */
function storedFields(event: ReturnType<typeof auditEvent>, id: string): readonly string[] {
  const content = eventContent(event, context);
  const position = content.subjectHashes.indexOf(hashSubject(id)) + 1;
  return fieldsForSubject(content.fields, content.change, position);
}

describe('fields per subject in an audit event', () => {
  it('adds nothing when every subject had all the fields', () => {
    const all = new Set(['population.name']);
    const event = auditEvent(origin, { operationType: 'query', decision: 'allow', fields: ['population.name'], subjects: ['a', 'b'], subjectFields: new Map([['a', all], ['b', all]]) });
    expect(event.subjectFields).toBeUndefined();
    expect(eventContent(event, context).change).toBeNull();
  });

  it('keeps each subject to its own fields, read fields first, then those compared', () => {
    const event = auditEvent(origin, {
      operationType: 'query',
      decision: 'allow',
      fields: ['housing.ownerName', 'population.name'],
      filters: ['housing.ownerIdNumber', 'population.idNumber'],
      subjects: ['A', 'B'],
      subjectFields: new Map([
        ['A', new Set(['filter:population.idNumber', 'population.name'])],
        ['B', new Set(['housing.ownerName', 'filter:housing.ownerIdNumber'])],
      ]),
    });
    expect(storedFields(event, 'A')).toEqual(['population.name', 'filter:population.idNumber']);
    expect(storedFields(event, 'B')).toEqual(['housing.ownerName', 'filter:housing.ownerIdNumber']);
    // An event without a table (older events, other kinds) gives every subject all of its fields.
    expect(fieldsForSubject(['x.y'], null, 1)).toEqual(['x.y']);
    expect(fieldsForSubject(['x.y'], { subjectFields: { sets: [[]], of: [0] } }, null)).toEqual(['x.y']);
  });

  it('is canonical and exact for any subjects, fields and order met (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[0-9]{4}$/), { minLength: 1, maxLength: 12 }).chain((ids) =>
          fc.tuple(fc.constant(ids), fc.array(fc.subarray(FIELDS), { minLength: ids.length, maxLength: ids.length }), fc.nat()),
        ),
        ([ids, sets, seed]) => {
          const known = ids.map((id, i) => [id, new Set(sets[i])] as const);
          const shuffled = [...known].sort((x, y) => ((hashSubject(x[0] + seed) < hashSubject(y[0] + seed)) ? -1 : 1));
          const fields = [...new Set(sets.flat())].sort();
          const build = (order: typeof known) =>
            auditEvent(origin, { operationType: 'query', decision: 'allow', fields, subjects: order.map(([id]) => id), subjectFields: new Map(order) });
          const a = eventContent(build(known), context);
          const b = eventContent(build(shuffled), context);
          expect(b.change).toEqual(a.change);
          for (const [id, set] of known) expect(storedFields(build(shuffled), id)).toEqual([...set].sort());
          // Small: one list per distinct set, one integer per subject.
          const table = (a.change as { subjectFields?: { sets: unknown[]; of: unknown[] } } | null)?.subjectFields;
          if (table) {
            expect(table.of).toHaveLength(a.subjectHashes.length);
            expect(table.sets.length).toBe(new Set(sets.map((s) => JSON.stringify([...s].sort()))).size);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
