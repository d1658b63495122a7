/**
 * The masks skip splitting a value into code points when it holds no surrogate (each UTF-16 unit
 * is then one code point). That fast path must give exactly what the general path (always
 * `Array.from`) gives, for any string: ASCII, CJK, astral characters, lone surrogates, whitespace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPOUND_SURNAMES, maskAddress, maskIdNumber, maskName, maskPhone, MASKS_OF_CODE_POINTS } from '../../policies/masks.ts';

/** Characters the masks look at (road tokens, office and town, digits of both widths) and others. */
const MEANINGFUL = ['路', '街', '道', '弄', '巷', '大', '镇', '号', '室', '0', '7', '０', '９', ' ', '\t', 'a', '𠀋', '😀', '\uD83D', '\uDE00'];
const piece = fc.oneof(
  fc.constantFrom(...MEANINGFUL),
  fc.constantFrom(...COMPOUND_SURNAMES),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 3 }),
);
const text = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(''));
/** Strings without any surrogate: the fast path's own domain. */
const bmp = text.map((s) => s.replace(/[\uD800-\uDFFF]/g, '字'));

const MASKS = { idNumber: maskIdNumber, phone: maskPhone, name: maskName, address: maskAddress } as const;

describe('the no-surrogate fast path of the masks', () => {
  for (const [kind, mask] of Object.entries(MASKS) as [keyof typeof MASKS, (v: string) => string][]) {
    it(`${kind}: the same as the general path for any string`, () => {
      fc.assert(
        fc.property(fc.oneof(text, bmp), (value) => {
          expect(mask(value)).toBe(MASKS_OF_CODE_POINTS[kind](value));
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('counts an astral character as one character on either path', () => {
    expect(maskName('𠀋小明')).toBe('𠀋**');
    expect(maskPhone('138😀😀😀5678')).toBe('138***5678');
    expect(maskIdNumber('310101😀😀😀😀😀😀😀123X')).toBe(MASKS_OF_CODE_POINTS.idNumber('310101😀😀😀😀😀😀😀123X'));
    expect(maskAddress('上海市𠀋区南京东路街道福州路123弄')).toBe('上海市𠀋区南京东路街道福州路***');
  });
});
