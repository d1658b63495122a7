/**
 * Advice for `npm run policy:check`: grant pairs under which the gateway refuses to follow a
 * relation (see `relation-rules.ts`): a source grant, and a target grant whose row condition the
 * source cannot carry, for the same duty and street, with no unconditioned target grant beside it.
 */
import { DATASET_RELATIONS } from '../relation-rules.ts';
import type { PolicySet } from '../policy-definitions.ts';
import { comparableGrants, shareStreets } from './overlap-warnings.ts';
import { defaultLocator, sortProblems, type PolicyLocator, type PolicyProblem } from './yaml-locations.ts';

export function relationWarnings(set: PolicySet, locate: PolicyLocator = defaultLocator): PolicyProblem[] {
  const grants = comparableGrants(set);
  const warnings: PolicyProblem[] = [];
  for (const relation of DATASET_RELATIONS) {
    for (const target of grants) {
      if (target.dataset !== relation.to || target.rows === null || target.rows === undefined) continue;
      const widened = grants.some((g) => g.dataset === relation.to && g.duty === target.duty && (g.rows === null || g.rows === undefined) && shareStreets(g, target));
      if (widened) continue;
      for (const source of grants) {
        if (source.dataset !== relation.from || source.duty !== target.duty || !shareStreets(source, target)) continue;
        const at = locate(target, ['rows']) ?? locate(target, ['id']) ?? { file: 'grants', line: 0 };
        warnings.push({
          ...at,
          message:
            `warning: grant '${target.id}' admits only some ${relation.to} rows (${JSON.stringify(target.rows)}) and grant '${source.id}' ` +
            `on ${relation.from} cannot carry that condition: under '${target.duty}' the relation ${relation.name} is refused ` +
            `(a null or empty answer would reveal the hidden rows); read ${relation.to} directly`,
        });
      }
    }
  }
  return sortProblems(warnings);
}
