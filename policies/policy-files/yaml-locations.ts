/**
 * YAML with line numbers: parses a policy file and remembers where each entry and key was written,
 * so that every problem is reported as `file:line`.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { PathStep } from '../../core/conditions.ts';
import type { DutyDef, GrantDef } from '../policy-definitions.ts';

export type { PathStep };

export interface PolicyProblem {
  file: string;
  /** 1-based line of the offending node; 0 when the problem concerns the whole file. */
  line: number;
  message: string;
}

export interface PolicyLocation {
  file: string;
  line: number;
}

/**
 * Where a key of a duty or grant is written. `path` is relative to the entry, e.g. `['duty']` or
 * `['rows', 'all', 1, 'op']`. The default locator knows every entry returned by the parse functions.
 */
export type PolicyLocator = (entry: DutyDef | GrantDef, path: readonly PathStep[]) => PolicyLocation | undefined;

interface Source {
  file: string;
  locate: (pathSteps: readonly PathStep[]) => number;
}

/** Where each parsed entry was written: feeds the default {@link PolicyLocator}. */
const SOURCES = new WeakMap<object, Source>();

/** Records that `entry` was read from `file`, with `locate` giving the line of a path inside it. */
export function rememberSource(entry: DutyDef | GrantDef, file: string, locate: Source['locate']): void {
  SOURCES.set(entry, { file, locate });
}

export const defaultLocator: PolicyLocator = (entry, pathSteps) => {
  const source = SOURCES.get(entry);
  return source ? { file: source.file, line: source.locate(pathSteps) } : undefined;
};

export interface ParsedFile {
  root: unknown;
  problems: PolicyProblem[];
  /** Line of the node at `path` from the document root (the closest existing ancestor's otherwise). */
  locate: (pathSteps: readonly PathStep[]) => number;
}

export function parseYaml(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : Math.max(1, lineCounter.linePos(offset).line));
  const nodeLine = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] | null } | null)?.range;
    return range ? lineOf(range[0]) : undefined;
  };
  const locate = (pathSteps: readonly PathStep[]): number => {
    let node: unknown = doc.contents;
    let line = nodeLine(node) ?? 1;
    for (let i = 0; i < pathSteps.length; i++) {
      const step = pathSteps[i];
      const last = i === pathSteps.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(step));
        if (!pair) return line;
        const keyLine = nodeLine(pair.key) ?? line;
        if (last) return keyLine;
        node = pair.value;
        line = nodeLine(node) ?? keyLine;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step];
        if (item === undefined) return line;
        node = item;
        line = nodeLine(node) ?? line;
      } else {
        return line;
      }
    }
    return line;
  };
  const problems = doc.errors.map((e) => ({
    file,
    line: lineOf(e.pos?.[0]),
    message: `YAML syntax error: ${e.message.split('\n')[0]}`,
  }));
  if (problems.length > 0) return { root: undefined, problems, locate };
  let root: unknown;
  try {
    root = normalise(doc.toJS({ maxAliasCount: 100 }));
  } catch (error) {
    return { root: undefined, problems: [{ file, line: 1, message: `YAML error: ${(error as Error).message}` }], locate };
  }
  return { root, problems, locate };
}

/** Dates (from a `%YAML 1.1` document's timestamps) back to ISO text; everything else as is. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) {
    const iso = Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

/** Problems in file order, then line order; equal lines keep their order. */
export function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : a.p.line - b.p.line || a.i - b.i))
    .map(({ p }) => p);
}
