import { describe, expect, it } from 'vitest';
import {
  applyMask,
  COMPOUND_SURNAMES,
  maskAddress,
  maskBirthDate,
  maskIdNumber,
  maskName,
  maskPhone,
  type MaskKind,
} from '../../policies/masks.ts';
import { DATASETS } from '../../core/datasets.ts';

describe('maskIdNumber', () => {
  it.each([
    ['31010119560101123X', '310101********123X'],
    ['31010119560101123x', '310101********123x'],
    ['310104198807150024', '310104********0024'],
    ['310101560101123', '310101*****1123'], // first-generation 15-character ID
    ['31010119560101', '310101****0101'], // 14: the shortest that keeps both ends
    ['3101011956010', '*************'], // 13: would hide only 3, so all starred
    ['1234567890', '**********'],
    ['123', '***'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskIdNumber(input)).toBe(expected);
  });

  it('never reveals more than 6 leading and 4 trailing characters', () => {
    for (let n = 0; n <= 30; n++) {
      const value = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcd'.slice(0, n);
      const masked = maskIdNumber(value);
      expect(Array.from(masked)).toHaveLength(n);
      const shown = Array.from(masked).filter((c) => c !== '*').length;
      expect(shown).toBeLessThanOrEqual(10);
      if (n > 0) expect(masked).not.toBe(value);
    }
  });
});

describe('maskPhone', () => {
  it.each([
    ['13812345678', '138****5678'],
    ['15900001111', '159****1111'],
    ['021-63211234', '021*****1234'],
    ['123456789', '123**6789'],
    ['12345678', '********'],
    ['1234', '****'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});

describe('maskName', () => {
  it.each([
    ['张三', '张*'],
    ['李小明', '李**'],
    ['欧阳娜娜', '欧阳**'],
    ['欧阳修', '欧阳*'],
    ['司马相如', '司马**'],
    ['诸葛亮', '诸葛*'],
    ['上官婉儿', '上官**'],
    ['令狐冲', '令狐*'],
    ['欧阳', '欧*'], // two characters only: the second is a given name, not part of the family name
    ['欧小阳', '欧**'], // 欧 alone is a single family name
    ['王', '*'], // one character: keeping it would reveal everything
    ['  张三  ', '张*'],
    ['𠀀三', '𠀀*'], // family name outside the BMP stays whole
    ['张𠀀𠀁', '张**'], // one star per code point, not per UTF-16 unit
    ['阿依古丽·买买提', '阿*******'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskName(input)).toBe(expected);
  });

  it('knows the common compound family names', () => {
    for (const s of ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '令狐', '长孙', '宇文', '司徒', '夏侯', '轩辕']) {
      expect(COMPOUND_SURNAMES.has(s)).toBe(true);
    }
    for (const s of COMPOUND_SURNAMES) expect(Array.from(s)).toHaveLength(2);
  });

  it('never produces lone surrogates', () => {
    const masked = maskName('𠀀𠀁𠀂');
    expect(masked).toBe('𠀀**');
    // No lone surrogate: every high surrogate is followed by a low one and vice versa.
    expect(masked).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});

describe('maskAddress', () => {
  it.each([
    ['上海市黄浦区南京东路街道福州路123弄4号501室', '上海市黄浦区南京东路街道福州路***'],
    ['上海市黄浦区福州路123弄4号501室', '上海市黄浦区福州路***'],
    ['上海市徐汇区天平路街道衡山路10号', '上海市徐汇区天平路街道衡山路***'],
    ['上海市徐汇区湖南路街道武康路街道口5号', '上海市徐汇区湖南路街道武康路***'],
    ['上海市黄浦区外滩街道中山东一路18号', '上海市黄浦区外滩街道中山东一路***'],
    ['上海市浦东新区世纪大道100号', '上海市浦东新区世纪大道***'],
    ['上海市黄浦区豫园街道方浜中路249弄3号', '上海市黄浦区豫园街道方浜中路***'],
    ['上海市黄浦区老西门街道蓬莱路', '上海市黄浦区老西门街道蓬莱路***'],
    ['上海市闵行区七宝镇七莘路3655号', '上海市闵行区七宝镇七莘路***'],
    ['上海市长宁区华阳路街道镇宁路200弄5号', '上海市长宁区华阳路街道镇宁路***'],
    ['上海市宝山区某某小区5号楼', '上海市宝山区***'], // no road: first 6 characters
    ['上海市黄浦区南京东路街道123号', '上海市黄浦区***'], // the only 路 is the office's
    ['某村12号', '某村***'], // never keep a digit
    ['１２３弄４号', '***'], // full-width digits count as a house number
    ['𠀀𠀁路9号', '𠀀𠀁路***'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskAddress(input)).toBe(expected);
  });

  it('never shows a digit of the house number', () => {
    for (const a of ['福州路123弄4号', '上海市黄浦区南京东路街道福州路123弄4号501室', '12号', '上海市123号', '西藏南路1号']) {
      const masked = maskAddress(a);
      expect(masked).not.toBe(a);
      expect(masked).not.toMatch(/[0-9]/);
      expect(masked.endsWith('***')).toBe(true);
    }
  });
});

describe('maskBirthDate', () => {
  it.each([
    ['1956-03-12', '1956'],
    ['2001-01-01T00:00:00Z', '2001'],
    ['not a date', '****'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskBirthDate(input)).toBe(expected);
  });

  it('reads Date objects at UTC midnight in UTC', () => {
    expect(maskBirthDate(new Date(Date.UTC(1956, 0, 1)))).toBe('1956');
    expect(maskBirthDate(new Date(1956, 11, 31))).toBe('1956');
    expect(maskBirthDate(new Date(Number.NaN))).toBe('****');
  });
});

describe('applyMask', () => {
  it.each<[MaskKind | undefined, unknown, unknown]>([
    ['idNumber', '31010119560101123X', '310101********123X'],
    ['phone', '13812345678', '138****5678'],
    ['phone', 13812345678, '138****5678'],
    ['name', '欧阳娜娜', '欧阳**'],
    ['address', '上海市黄浦区南京东路街道福州路123弄4号501室', '上海市黄浦区南京东路街道福州路***'],
    ['birthDate', '1956-03-12', '1956'],
    ['birthDate', new Date(Date.UTC(1956, 2, 12)), '1956'],
    ['idNumber', null, null],
    ['name', undefined, null],
    ['none', 'Shanghai Foo Ltd', '***'],
    [undefined, 'Shanghai Foo Ltd', '***'],
    [undefined, 1234.5, null],
    [undefined, true, null],
    [undefined, null, null],
    ['none', 0, null],
    ['phone', { toString: () => '13812345678' }, null], // non-scalar values are not masked, they are hidden
  ])('%s(%j) → %j', (kind, value, expected) => {
    expect(applyMask(kind, value)).toEqual(expected);
  });

  it('has a mask for every masked kind used by the datasets', () => {
    for (const ds of Object.values(DATASETS)) {
      for (const f of ds.fields) {
        const sample = f.type === 'string' || f.type === 'date' ? '31010119560101123X' : 42;
        const masked = applyMask(f.mask, sample);
        expect(masked).not.toBe(sample);
        expect(masked).not.toBe(String(sample));
      }
    }
  });
});
