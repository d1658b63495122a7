/**
 * The scrubber's shortcut: a text that holds none of what the patterns look for is returned as it
 * is, and any text gets exactly what every pattern in turn would make of it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scrubEveryPattern, scrubText } from '../../core/personal-data.ts';

/** Pieces that the patterns react to, and pieces they do not, mixed into random texts. */
const piece = fc.oneof(
  fc.constantFrom(
    '310101195601011234',
    '31010119560101123X',
    '13812345678',
    '"',
    '\\"',
    ': "x"',
    'invalid value ',
    'Invalid Value ',
    'cannot represent a non string value: ',
    'CANNOT REPRESENT value: ',
    'postgres://user:secret@host',
    '://',
    'grants: g-a, g-b',
    'elderly-allowance',
    'population.name',
    '$id',
    ';',
    ' ',
    '\n',
  ),
  fc.string({ maxLength: 8 }),
  fc.stringMatching(/^[0-9Xx]{1,20}$/),
);
const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

describe('scrubText', () => {
  it('property: gives exactly what every pattern in turn gives, for any text', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(scrubText(t)).toBe(scrubEveryPattern(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('returns the product’s own texts unchanged and still scrubs what holds personal data', () => {
    for (const own of ['grants: g-elderly, g-housing', 'elderly-allowance', 'FORBIDDEN: population.phone is not granted']) expect(scrubText(own)).toBe(own);
    expect(scrubText('lookup of 310101195601011234 by 13812345678')).toBe('lookup of [id-number] by [phone]');
    expect(scrubText('Variable "$id" got invalid value "张三"; expected ID')).toBe('Variable "$id" got invalid value [value]; expected ID');
    expect(scrubText('connect postgres://admin:pw@db failed')).toBe('connect postgres://[credentials]@db failed');
  });
});
