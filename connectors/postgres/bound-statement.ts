/**
 * A statement compiled once and bound many times: placeholders (frozen objects, found by identity
 * among the compiled parameters) stand where each request's own values go, so building and
 * compiling the SQL happens once per shape of query and a request only copies the parameters.
 */
import type { CompiledQuery } from 'kysely';

/** Placeholders compiled into a prepared find, replaced by each request's values (found by identity). */
export const LIMIT = Object.freeze({ slot: 'limit' });
export const CURSOR_VALUE = Object.freeze({ slot: 'cursor value' });
export const CURSOR_ROW = Object.freeze({ slot: 'cursor row' });

export interface BoundStatement {
  bind(limit: number, cursorValue: unknown, cursorRow: string | undefined): CompiledQuery;
}

function slotOf(parameters: readonly unknown[], slot: object): number {
  const at = parameters.indexOf(slot);
  if (at < 0 || parameters.indexOf(slot, at + 1) >= 0) throw new TypeError('a prepared statement must hold each placeholder once');
  return at;
}

export function boundStatement(compiled: CompiledQuery, cursor: boolean, cursorValue: boolean): BoundStatement {
  const limitAt = slotOf(compiled.parameters, LIMIT);
  const rowAt = cursor ? slotOf(compiled.parameters, CURSOR_ROW) : -1;
  const valueAt = cursorValue ? slotOf(compiled.parameters, CURSOR_VALUE) : -1;
  return {
    bind(limit, value, row) {
      const parameters = compiled.parameters.slice();
      parameters[limitAt] = limit;
      if (rowAt >= 0) parameters[rowAt] = row;
      if (valueAt >= 0) parameters[valueAt] = value;
      return { ...compiled, parameters };
    },
  };
}

/** A small number naming an object for as long as it lives (plans hand out the same scope objects). */
const identities = new WeakMap<object, number>();
let nextIdentity = 1;
export function identity(of: object): number {
  let id = identities.get(of);
  if (id === undefined) identities.set(of, (id = nextIdentity++));
  return id;
}
