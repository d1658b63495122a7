/**
 * The policy files under the admission review's rules. Grants and duty lists in files are
 * standing decisions: they bypass the review, so `npm run policy:check` holds them to what the
 * review would check and says where they stand on their own:
 * a grant may serve a street only where its duty is delegated, so streets a grant names outside
 * its duty's standing list are served only while an admitted delegation is in force there
 * (warning); and each standing grant has a document reference, its file and line, shown with the grant.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY_DIR } from '../policy-files/load-policy-directory.ts';
import type { PolicyProblem } from '../policy-files/yaml-locations.ts';
import type { PolicySet } from '../policy-definitions.ts';

/** Warnings about standing grants under the admission review's rules (never errors: the set is valid). */
export function standingPolicyWarnings(set: PolicySet, documents: ReadonlyMap<string, string> = new Map()): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  const duties = new Map(set.duties.map((d) => [d.id, d]));
  const where = (id: string): { file: string; line: number } => {
    const doc = documents.get(id);
    const m = doc ? /^(.*):(\d+)$/.exec(doc) : null;
    return m ? { file: m[1]!, line: Number(m[2]) } : { file: 'grants', line: 0 };
  };
  for (const grant of set.grants) {
    const duty = duties.get(grant.duty);
    // A grant for all streets serves exactly where the duty is in force: nothing to say.
    if (duty && duty.streets !== 'all' && grant.streets !== 'all') {
      const delegated = new Set(duty.streets);
      const outside = grant.streets.filter((s) => !delegated.has(s));
      if (outside.length > 0) {
        warnings.push({
          ...where(grant.id),
          message: `warning: grant '${grant.id}' names ${outside.join(', ')}, where duty '${duty.id}' has no standing delegation; it serves there only while an admitted delegation is in force`,
        });
      }
    }
  }
  return warnings;
}

/**
 * Where each standing grant is written: grant id → `<dir>/grants/<file>:<line>` (relative to the
 * current directory when inside it), read from the grant files as the gateway loads them.
 */
export async function standingGrantDocuments(dir: string = DEFAULT_POLICY_DIR): Promise<Map<string, string>> {
  const documents = new Map<string, string>();
  const grantsDir = path.join(dir, 'grants');
  let names: string[];
  try {
    names = (await readdir(grantsDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    return documents;
  }
  const root = path.dirname(dir);
  for (const name of names) {
    const file = path.join(grantsDir, name);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      const m = /^\s*-\s*id:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*(#.*)?$/.exec(line);
      if (m && !documents.has(m[1]!)) documents.set(m[1]!, `${path.relative(root, file)}:${i + 1}`);
    });
  }
  return documents;
}
