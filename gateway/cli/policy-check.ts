/**
 * `npm run policy:check [dir]`: validate the policy-as-code files (default: the shipped `policies/`).
 *
 * Prints one `file:line: message` per problem and exits 1 when there is any; otherwise prints a
 * summary and exits 0. The rules are the admission rules the admin API applies too
 * (`policies/grant-admission.ts`). Warnings (`file:line: warning: …`: overlapping grants with
 * different row conditions, or grant pairs under which the gateway refuses a relation such as
 * Person.household) are printed too but do not fail the check. Exit 2 when the check itself could
 * not run.
 */
import path from 'node:path';
import { loadPolicyDirectory } from '../../policies/policy-files/load-policy-directory.ts';
import { standingGrantDocuments, standingPolicyWarnings } from '../../policies/admission/standing-policies.ts';

async function main(argv: readonly string[]): Promise<number> {
  const arg = argv[0];
  if (arg === '--help' || arg === '-h') {
    process.stdout.write('usage: npm run policy:check -- [policy directory]\n');
    return 0;
  }
  const dir = arg === undefined ? undefined : path.resolve(arg);
  const loaded = await loadPolicyDirectory(dir);
  const { set, problems } = loaded;
  // Standing grants bypass the admission review: held to its rules (as warnings).
  const warnings = [...loaded.warnings, ...standingPolicyWarnings(set, await standingGrantDocuments(dir))];
  const shown = (file: string) => {
    const rel = path.relative(process.cwd(), file);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  };
  for (const p of problems) {
    process.stdout.write(p.line > 0 ? `${shown(p.file)}:${p.line}: ${p.message}\n` : `${shown(p.file)}: ${p.message}\n`);
  }
  // Warnings are advice: printed, but they do not fail the check.
  for (const w of warnings) {
    process.stdout.write(w.line > 0 ? `${shown(w.file)}:${w.line}: ${w.message}\n` : `${shown(w.file)}: ${w.message}\n`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    return 1;
  }
  process.stdout.write(`policies OK: ${set.duties.length} duties, ${set.grants.length} grants\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`policy:check could not run: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
