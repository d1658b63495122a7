/**
 * The standard masks of DOMAIN.md as pure functions.
 *
 * A field granted `masked` is read through the mask named by its `mask` kind in
 * `connectors/datasets.ts`. Every mask works per Unicode code point (never per UTF-16 unit), so a
 * character outside the BMP counts as one character and is never split into a lone surrogate.
 *
 * Shared rules:
 * - `null`/`undefined` stay `null` (a missing value is not a secret).
 * - An empty string stays empty: there is nothing to reveal.
 * - When a value is too short for the standard rule to hide anything meaningful, it is starred
 *   entirely (one `*` per character) rather than shown.
 */
import type { FieldDef } from '../core/datasets.ts';

/** The mask kinds a dataset field may declare. */
export type MaskKind = NonNullable<FieldDef['mask']>;

/** What a masked field without a standard mask (kind `none` or absent) shows when it is a string. */
export const HIDDEN = '***';

/**
 * A value's code points, indexable: the string itself when it holds no surrogate (then each UTF-16
 * unit is one code point, and nothing is split or copied), else its code points as an array.
 */
type CodePoints = string | readonly string[];

const SURROGATE = /[\uD800-\uDFFF]/;
const chars = (value: string): CodePoints => (SURROGATE.test(value) ? Array.from(value) : value);
/** The code points from `start` to `end` as a string. */
const part = (cs: CodePoints, start: number, end?: number): string => (typeof cs === 'string' ? cs.slice(start, end) : cs.slice(start, end).join(''));
const stars = (n: number): string => '*'.repeat(Math.max(0, n));

/** Keep `head` leading and `tail` trailing code points, star the rest; star all when fewer than `minHidden` would be hidden. */
function keepEnds(cs: CodePoints, head: number, tail: number, minHidden: number): string {
  if (cs.length - head - tail < minHidden) return stars(cs.length);
  return part(cs, 0, head) + stars(cs.length - head - tail) + part(cs, cs.length - tail);
}

/**
 * Resident ID number: first 6 (region code) and last 4 kept, everything between starred.
 * Values with fewer than 4 characters between those ends (shorter than 14) are starred entirely,
 * so a mask never reveals more than the region code and the last 4 characters.
 *
 * @example maskIdNumber('31010119560101123X') === '310101********123X'
 * @example maskIdNumber('310101560101123') === '310101*****1123' // first-generation 15-character ID
 */
export function maskIdNumber(value: string): string {
  return idNumberOf(chars(value));
}

function idNumberOf(cs: CodePoints): string {
  return keepEnds(cs, 6, 4, 4);
}

/**
 * Phone number: first 3 and last 4 kept. Values shorter than 9 characters are starred entirely.
 *
 * @example maskPhone('13812345678') === '138****5678'
 */
export function maskPhone(value: string): string {
  return phoneOf(chars(value));
}

function phoneOf(cs: CodePoints): string {
  return keepEnds(cs, 3, 4, 2);
}

/**
 * Two-character family names (复姓) recognised by {@link maskName}. Any other name keeps only its
 * first character as the family name.
 */
export const COMPOUND_SURNAMES: ReadonlySet<string> = new Set([
  '欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '令狐', '长孙', '宇文', '司徒',
  '夏侯', '轩辕', '端木', '独孤', '南宫', '西门', '百里', '呼延', '闻人', '澹台', '公冶', '宗政', '濮阳',
  '淳于', '单于', '太叔', '申屠', '仲孙', '钟离', '万俟', '赫连', '鲜于', '闾丘', '司空', '亓官', '司寇',
  '子车', '颛孙', '壤驷', '公良', '漆雕', '乐正', '宰父', '谷梁', '拓跋', '夹谷', '梁丘', '左丘', '东郭',
  '公羊', '羊舌', '微生', '巫马', '段干', '东门', '公西', '南门', '东里', '第五',
]);

/**
 * Personal name: the family name kept, each remaining character replaced by one `*`.
 * A compound family name from {@link COMPOUND_SURNAMES} is kept whole when at least one character
 * follows it. A one-character value is starred entirely (keeping it would reveal the whole value).
 * Surrounding whitespace is trimmed first.
 *
 * @example maskName('张三') === '张*'
 * @example maskName('欧阳娜娜') === '欧阳**'
 */
export function maskName(value: string): string {
  return nameOf(chars(value.trim()));
}

function nameOf(cs: CodePoints): string {
  if (cs.length <= 1) return stars(cs.length);
  const family = cs.length > 2 && COMPOUND_SURNAMES.has(cs[0]! + cs[1]!) ? 2 : 1;
  return part(cs, 0, family) + stars(cs.length - family);
}

/** Arabic digits, ASCII or full-width: the start of a house number. */
const DIGIT = /[0-9０-９]/;

/** Index just after the first road-or-lane token at or after `from`, or -1. */
function roadTokenEnd(cs: CodePoints, from: number): number {
  for (let i = from; i < cs.length; i++) {
    const c = cs[i];
    if (c === '路' || c === '弄' || c === '巷') return i + 1;
    if (c === '街' && cs[i + 1] !== '道') return i + 1;
    if (c === '大' && cs[i + 1] === '道') return i + 2;
  }
  return -1;
}

/**
 * Address: kept up to and including the road or lane, the rest replaced by `***`.
 *
 * The road is the first 路, 街, 弄, 巷 or 大道 after the street-office (`…街道`) or, failing that,
 * town (`…镇`) prefix, so that the road inside an office's name (`南京东路街道`) is not mistaken for the road of the
 * address. 街 followed by 道 is the office, not a road. Without a road before the house number, at
 * most the first 6 characters are kept, cut before any digit. The kept part never contains a digit,
 * so no house, building or room number is ever shown.
 *
 * @example maskAddress('上海市黄浦区南京东路街道福州路123弄4号501室') === '上海市黄浦区南京东路街道福州路***'
 */
export function maskAddress(value: string): string {
  return addressOf(chars(value));
}

function addressOf(cs: CodePoints): string {
  if (cs.length === 0) return '';
  let firstDigit = cs.length;
  for (let i = 0; i < cs.length; i++) {
    if (DIGIT.test(cs[i]!)) {
      firstDigit = i;
      break;
    }
  }

  // Skip past the street-office prefix (the first 街道), or else the town prefix (the first 镇),
  // when it comes before the house number: the road is searched for after it.
  let office = -1;
  let town = -1;
  for (let i = 0; i < firstDigit && office < 0; i++) {
    if (cs[i] === '街' && cs[i + 1] === '道') office = i;
    else if (town < 0 && cs[i] === '镇') town = i;
  }
  const start = office >= 0 ? office + 2 : town >= 0 ? town + 1 : 0;

  let keep = roadTokenEnd(cs, start);
  if (keep < 0 || keep > firstDigit) keep = Math.min(6, firstDigit);
  return part(cs, 0, keep) + HIDDEN;
}

/**
 * The masks over code points already split, always by `Array.from`: the general path, which the
 * tests hold the no-surrogate fast path of the exported masks to.
 */
export const MASKS_OF_CODE_POINTS = {
  idNumber: (value: string) => idNumberOf(Array.from(value)),
  phone: (value: string) => phoneOf(Array.from(value)),
  name: (value: string) => nameOf(Array.from(value.trim())),
  address: (value: string) => addressOf(Array.from(value)),
} as const;

/**
 * Birth date: the year only.
 *
 * Accepts `YYYY-MM-DD` (or any string starting with a 4-digit year) and `Date` objects. A `Date` at
 * UTC midnight is read in UTC, any other in local time, so a date-only value that a driver turned into
 * local midnight keeps its year. Anything else is hidden as `****`.
 *
 * @example maskBirthDate('1956-03-12') === '1956'
 */
export function maskBirthDate(value: string | Date): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '****';
    const utcMidnight = value.getUTCHours() === 0 && value.getUTCMinutes() === 0 && value.getUTCSeconds() === 0;
    return String(utcMidnight ? value.getUTCFullYear() : value.getFullYear()).padStart(4, '0');
  }
  if (value === '') return '';
  const year = /^\s*(\d{4})/.exec(value);
  return year ? year[1] : '****';
}

/**
 * Apply the mask of a field granted `masked`.
 *
 * - `null`/`undefined` → `null`.
 * - A standard kind (`idNumber`, `phone`, `name`, `address`, `birthDate`) masks the value as text
 *   (numbers are turned into text first; `birthDate` also takes a `Date`). A value of any other type
 *   cannot be masked safely and comes back `null`.
 * - Kind `none` or no kind: the field has no standard mask, so a `masked` grant on it hides it fully:
 *   strings become `'***'` ({@link HIDDEN}), every other value (numbers, booleans, dates) `null`.
 *   Granting such a field `masked` lets a caller know the field exists, nothing more.
 */
export function applyMask(kind: MaskKind | undefined, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (kind === undefined || kind === 'none') return typeof value === 'string' ? HIDDEN : null;
  if (kind === 'birthDate' && value instanceof Date) return maskBirthDate(value);
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return null;
  const text = String(value);
  switch (kind) {
    case 'idNumber':
      return maskIdNumber(text);
    case 'phone':
      return maskPhone(text);
    case 'name':
      return maskName(text);
    case 'address':
      return maskAddress(text);
    case 'birthDate':
      return maskBirthDate(text);
    default: {
      // An unknown kind (a dataset definition newer than this file) hides the value fully.
      const unknownKind: never = kind;
      void unknownKind;
      return typeof value === 'string' ? HIDDEN : null;
    }
  }
}
