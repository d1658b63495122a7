/**
 * Advice, not errors: pairs of grants of one dataset and duty that can apply to the same street
 * with different row conditions, where one shows a field the other does not (or shows it at a
 * lower access). Such a field depends on the row (`policies/grant-compiler.ts`): it shows on a row
 * only where a grant admitting that row grants it, and filters, sorts and look-ups by it run over
 * the rows where it is full only; worth knowing when a street reports "missing" values.
 */
import type { GrantDef, PolicySet } from '../policy-definitions.ts';
import { defaultLocator, sortProblems, type PolicyLocator, type PolicyProblem } from './yaml-locations.ts';

/** Whether two grants can apply to one street. */
export function shareStreets(a: Pick<GrantDef, 'streets'>, b: Pick<GrantDef, 'streets'>): boolean {
  return a.streets === 'all' || b.streets === 'all' || (Array.isArray(a.streets) && Array.isArray(b.streets) && a.streets.some((x) => (b.streets as string[]).includes(x)));
}

/** Grants well-formed enough to compare (the parser returns entries with problems too). */
export function comparableGrants(set: PolicySet): GrantDef[] {
  return set.grants.filter((g) => g && typeof g.id === 'string' && g.fields && typeof g.fields === 'object');
}

export function overlapWarnings(set: PolicySet, locate: PolicyLocator = defaultLocator): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  const level = (g: GrantDef, f: string) => (g.fields[f] === 'full' ? 2 : g.fields[f] === 'masked' ? 1 : 0);
  const condition = (g: GrantDef) => (g.rows === null || g.rows === undefined ? 'every row' : JSON.stringify(g.rows));
  const grants = comparableGrants(set);
  for (let i = 0; i < grants.length; i++) {
    for (let j = i + 1; j < grants.length; j++) {
      const a = grants[i]!;
      const b = grants[j]!;
      if (a.dataset !== b.dataset || a.duty !== b.duty || !shareStreets(a, b) || condition(a) === condition(b)) continue;
      // Fields one grant shows on rows the other admits, where the other does not show them as well.
      const fields = [...new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])]
        .filter((f) => level(a, f) !== level(b, f) && !(a.rows == null && level(a, f) >= level(b, f)) && !(b.rows == null && level(b, f) >= level(a, f)))
        .sort();
      if (fields.length === 0) continue;
      const at = locate(b, ['rows']) ?? locate(b, ['id']) ?? { file: 'grants', line: 0 };
      warnings.push({
        ...at,
        message:
          `warning: grants '${a.id}' and '${b.id}' (${a.dataset}, ${a.duty}) apply to the same street with different row conditions ` +
          `(${condition(a)} / ${condition(b)}); ${fields.join(', ')} depend(s) on the row: shown only on rows a grant giving it admits, ` +
          'filtered, sorted and looked up by only where full; give both grants the same row condition or the same fields if that is not meant',
      });
    }
  }
  return sortProblems(warnings);
}
