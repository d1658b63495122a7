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

describe('URL credentials', () => {
  it('are scrubbed after any scheme, however it starts, and the scheme is kept', () => {
    expect(scrubText('via 1postgres://u:pw@db and x+a.b://u@h')).toBe('via 1postgres://[credentials]@db and x+a.b://[credentials]@h');
    expect(scrubText('redis://:secret@cache:6379')).toBe('redis://[credentials]@cache:6379');
  });

  it('a long run of letters without "://" is scanned once (it took seconds when scanned from each letter)', () => {
    const long = `${'a'.repeat(200_000)} 13812345678 ${'b'.repeat(200_000)}://${'c'.repeat(200_000)}`;
    const started = performance.now();
    const scrubbed = scrubText(long);
    // Scanned from each letter, these 600,000 characters take minutes; scanned once, milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(scrubbed).toContain(' [phone] ');
    expect(scrubbed.length).toBe(long.length - '13812345678'.length + '[phone]'.length);
  });
});

describe('quoted values', () => {
  it('a quote left open is scrubbed to the end of the text; a closed one as before', () => {
    expect(scrubText('Unknown type "张三 13 Road')).toBe('Unknown type "[value]"');
    expect(scrubText('field "population.name" and "$id')).toBe('field "population.name" and "$id');
    expect(scrubText('got "a\\"b" here')).toBe('got "[value]" here');
  });

  it('texts of escaped quotes or recurring coercion words are scanned once (they took up to seconds)', () => {
    for (const text of ['"\\'.repeat(100_000), `${'cannot represent '.repeat(20_000)}1`, `${':"'.repeat(100_000)}1`]) {
      const started = performance.now();
      expect(scrubText(text)).toBe(scrubEveryPattern(text));
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });
});
