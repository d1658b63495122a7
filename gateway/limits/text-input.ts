/**
 * Text a source cannot store cannot be asked about either: PostgreSQL refuses the NUL character
 * (U+0000) in any text value, so an argument carrying one would fail at the source and read as
 * "source unavailable". It is refused up front as the caller's input instead.
 */
import { Kind, visit, type DocumentNode } from 'graphql';
import { GatewayError } from '../../core/errors.ts';

const NUL = '\u0000';

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  if (depth > 20 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes(NUL) || hasNul(v, depth + 1));
}

/** Per document (yoga reuses one DocumentNode per query text): does a string literal hold U+0000? */
const literals = new WeakMap<DocumentNode, boolean>();

function literalHasNul(document: DocumentNode): boolean {
  let found = literals.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      [Kind.STRING](node) {
        if (node.value.includes(NUL)) found = true;
      },
    });
    literals.set(document, found);
  }
  return found;
}

/** Throws BAD_USER_INPUT when a string literal of `document` or a variable value holds U+0000. */
export function assertNoNulCharacters(document: DocumentNode, variables: unknown): void {
  if (hasNul(variables) || literalHasNul(document)) throw new GatewayError('BAD_USER_INPUT', 'text arguments may not contain the NUL character (U+0000)');
}
