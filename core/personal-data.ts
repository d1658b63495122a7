/**
 * Personal data must never reach a log line or the append-only audit trail in clear. These are the
 * one scrubber both use: resident ID numbers, mobile numbers, quoted values (PostgreSQL quotes the
 * offending value after a colon; GraphQL quotes a variable's value after "invalid value") and URL
 * credentials are replaced by placeholders. Texts the product writes itself (codes, duty ids,
 * `dataset.field` names) pass unchanged.
 */
const ID_NUMBER = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
const PHONE = /(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])/g;
/** `...for type integer: "value"`: PostgreSQL quotes the offending value after a colon. */
const QUOTED_VALUE = /(:\s*)"[^"]*"/g;
/** GraphQL's coercion errors: `got invalid value <anything up to ';' or the end>`. */
const INVALID_VALUE = /(invalid value )(?:"(?:[^"\\]|\\.)*"|[^;]*)/g;
/** `cannot represent (a non string) value: <value>`. */
const CANNOT_REPRESENT = /(cannot represent[^:]{0,200}value: ).*$/gim; // the gap bounded: linear however often the words recur
/**
 * Any other quoted text that is not one of the product's own identifiers (`$variable`, a duty id,
 * `dataset.field`, an ASCII type or field name). A quote left open runs to the end of the text and
 * is scrubbed too; so a match never fails once started, and a text of escaped quotes is scanned
 * once, not once from each quote (quadratic: 40,000 characters took 0.9 s).
 */
const QUOTED_OTHER = /"((?:[^"\\]|\\[\s\S]?)*)(?:"|$)/g;
const OWN_IDENTIFIER = /^\$?[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/**
 * `postgres://user:password@host`: credentials in a URL. The scheme is taken from the start of its
 * run of scheme characters (the look-behind), so that a long run without `://` is scanned once, not
 * once from each of its letters (quadratic: 100,000 letters took 10 s); the scheme is kept as it is,
 * so where the run starts changes nothing but that a scheme of digits alone is scrubbed too. The
 * user may be empty (`redis://:password@host`).
 */
const URL_CREDENTIALS = /(?<![a-z0-9+.-])([a-z0-9+.-]+:\/\/)[^/\s:@]*(?::[^/\s@]*)?@/gi;

/**
 * What every pattern above needs at least one of: a digit (ID and phone numbers), a double quote,
 * `://`, or the words the two coercion patterns start from. A text with none of them (a duty id,
 * "grants: …", a fixed reason) has nothing to scrub, and is answered by this one test instead of
 * seven replacements: the audit event's purpose and reason pass here on every request.
 */
const MAY_HOLD_PERSONAL_DATA = /[\d"]|:\/\/|invalid value |cannot represent/i;

/** Removes ID numbers, phone numbers, quoted values and URL credentials from a text. */
export function scrubText(text: string): string {
  return MAY_HOLD_PERSONAL_DATA.test(text) ? scrubEveryPattern(text) : text;
}

/** {@link scrubText} without its shortcut: every pattern, in order (the tests hold the two equal). */
export function scrubEveryPattern(text: string): string {
  return text
    .replace(ID_NUMBER, '[id-number]')
    .replace(PHONE, '[phone]')
    .replace(INVALID_VALUE, '$1[value]')
    .replace(CANNOT_REPRESENT, '$1[value]')
    .replace(QUOTED_VALUE, '$1"[value]"')
    .replace(QUOTED_OTHER, (whole, inner: string) => (OWN_IDENTIFIER.test(inner) ? whole : '"[value]"'))
    .replace(URL_CREDENTIALS, '$1[credentials]@');
}

/** A run of digits as long as a phone number's or longer (an ID number's, with its check character). */
const LONG_DIGIT_RUN = /\d{7,}[Xx]?/g;
/** Longest operation name kept: names are labels, not payloads. */
const MAX_OPERATION_NAME_LENGTH = 128;

/**
 * The recorded form of a GraphQL operation name. A name is the client's own text and a GraphQL name
 * may hold digits next to letters (`P13812345678`), where {@link scrubText}'s word boundaries do not
 * see a phone or an ID number: every run of seven digits or more is replaced.
 */
export function scrubOperationName(name: string | null | undefined): string | null {
  if (name == null || name === '') return null;
  return name.slice(0, MAX_OPERATION_NAME_LENGTH).replace(LONG_DIGIT_RUN, '[digits]');
}
