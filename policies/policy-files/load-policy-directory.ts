/**
 * Reads a policy directory from disk: `<dir>/duties.yaml` and every `<dir>/grants/*.yaml`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicySet } from '../policy-definitions.ts';
import { overlapWarnings } from './overlap-warnings.ts';
import { checkPolicyTexts, type PolicyText } from './parse-policy-files.ts';
import { relationWarnings } from './relation-warnings.ts';
import { sortProblems, type PolicyProblem } from './yaml-locations.ts';

/** The shipped policy directory (`policies/`, the parent of this folder). */
export const DEFAULT_POLICY_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/**
 * Load `<dir>/duties.yaml` and every `<dir>/grants/*.yaml` (or `.yml`, in name order), and check
 * them all. Problem paths are `dir` joined with the file name. Warnings are advice (grant pairs the
 * gateway will narrow), never a reason to refuse the files.
 */
export async function loadPolicyDirectory(
  dir: string = DEFAULT_POLICY_DIR,
): Promise<{ set: PolicySet; problems: PolicyProblem[]; warnings: PolicyProblem[] }> {
  const problems: PolicyProblem[] = [];
  const dutiesFile = path.join(dir, 'duties.yaml');
  let dutiesText = 'duties: []';
  try {
    dutiesText = await readFile(dutiesFile, 'utf8');
  } catch (error) {
    problems.push({ file: dutiesFile, line: 0, message: `cannot read the duty catalogue: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
  }
  const grantsDir = path.join(dir, 'grants');
  const grantFiles: PolicyText[] = [];
  try {
    const names = (await readdir(grantsDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    for (const name of names) {
      const file = path.join(grantsDir, name);
      grantFiles.push({ file, text: await readFile(file, 'utf8') });
    }
  } catch (error) {
    problems.push({ file: grantsDir, line: 0, message: `cannot read the grants directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
  }
  const checked = checkPolicyTexts({ file: dutiesFile, text: dutiesText }, grantFiles);
  const warnings = sortProblems([...overlapWarnings(checked.set), ...relationWarnings(checked.set)]);
  return { set: checked.set, problems: [...problems, ...checked.problems], warnings };
}
