/**
 * The one canonical JSON encoder: object keys sorted by UTF-16 code unit at every level, no
 * whitespace, strings and finite numbers as `JSON.stringify` writes them, anything else (undefined,
 * functions, non-finite numbers) `null`. The audit chain hashes these bytes, so they must never change;
 * the policy layer uses the same encoder to compare row conditions and grants.
 */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  switch (typeof value) {
    case 'object': {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
    }
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    default:
      return 'null';
  }
}
