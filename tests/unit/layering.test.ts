/**
 * The one rule about arrows (ARCHITECTURE.md), checked over every import of the product's source:
 *
 * - core/ imports nothing of the project;
 * - connectors/, policies/ and audit/ import core/ (and themselves) only;
 * - schema/ imports core/, policies/, audit/ and the connectors' port (never an adapter);
 * - demo/ imports core/, connectors/ and policies/ (it seeds the sources and the demo's admission state);
 * - gateway/ is the composition root: it may import anything of the product, and nothing in the
 *   product imports it; only its runtime and CLI import demo/;
 * - nothing in the product imports bench/ or tests/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PRODUCT = ['core', 'audit', 'policies', 'connectors', 'schema', 'gateway', 'demo', 'console'] as const;
type Layer = (typeof PRODUCT)[number] | 'bench' | 'tests' | 'outside';

const MAY_IMPORT: Readonly<Record<(typeof PRODUCT)[number], readonly Layer[]>> = {
  core: ['core'],
  connectors: ['core', 'connectors'],
  policies: ['core', 'policies'],
  audit: ['core', 'audit'],
  schema: ['core', 'policies', 'audit', 'schema', 'connectors'],
  demo: ['core', 'connectors', 'policies', 'demo'],
  gateway: ['core', 'audit', 'policies', 'connectors', 'schema', 'gateway', 'demo', 'console'],
  console: ['console'],
};

/** Files of gateway/ that may import the demo (embedded mode and the seed command). */
const DEMO_IMPORTERS = /^gateway\/(runtime[^/]*\.ts|cli\/.*|runtime\/.*)$/;

export interface Violation {
  readonly file: string;
  readonly target: string;
  readonly rule: string;
}

function layerOf(file: string): Layer {
  const top = file.split('/')[0]!;
  return (PRODUCT as readonly string[]).includes(top) || top === 'bench' || top === 'tests' ? (top as Layer) : 'outside';
}

/** Every relative module specifier of a source text, with whether the import is type-only. */
export function importsOf(source: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const statement = /(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(statement)) found.push({ specifier: m[3]!, typeOnly: !!m[2] });
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push({ specifier: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found.filter((i) => i.specifier.startsWith('.'));
}

/** The arrows against the rules among `files` (repo-relative path → source text). */
export function layeringViolations(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === 'bench' || from === 'tests' || from === 'outside') continue;
    for (const { specifier } of importsOf(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const to = layerOf(target);
      const say = (rule: string) => violations.push({ file, target, rule });
      if (to === 'bench' || to === 'tests') say(`product code never imports ${to}/`);
      else if (to === 'outside') say('imports outside the project');
      else if (!MAY_IMPORT[from].includes(to)) say(`${from}/ may not import ${to}/`);
      else if (from === 'schema' && to === 'connectors' && target !== 'connectors/connector.ts') {
        say('schema/ may import only the connector port, never an adapter');
      } else if (from === 'gateway' && to === 'demo' && !DEMO_IMPORTERS.test(file)) {
        say('only the runtime and the CLI import demo/');
      }
    }
  }
  return violations;
}

function productFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(rel);
      } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
        files.set(rel, fs.readFileSync(path.join(ROOT, rel), 'utf8'));
      }
    }
  };
  for (const top of PRODUCT) if (fs.existsSync(path.join(ROOT, top))) walk(top);
  return files;
}

describe('layering', () => {
  const files = productFiles();

  it('reads the whole product', () => {
    for (const layer of ['core', 'audit', 'policies', 'connectors', 'schema', 'gateway', 'demo']) {
      expect([...files.keys()].some((f) => f.startsWith(`${layer}/`)), layer).toBe(true);
    }
  });

  it('has no arrow against the rules', () => {
    expect(layeringViolations(files)).toEqual([]);
  });

  const plant = (file: string, line: string): Violation[] => {
    return layeringViolations(new Map([[file, line]]));
  };

  it.each([
    ['schema/resolver-context.ts', "import { createGateway } from '../gateway/server.ts';", 'schema/ may not import gateway/'],
    ['policies/masks.ts', "import type { Gateway } from '../gateway/server.ts';", 'policies/ may not import gateway/'],
    ['core/errors.ts', "import { DATASETS } from '../policies/masks.ts';", 'core/ may not import policies/'],
    ['audit/audit-event.ts', "import { x } from '../schema/resolver-context.ts';", 'audit/ may not import schema/'],
    ['connectors/connector.ts', "type P = import('../policies/access-plan.ts').AccessPlan;", 'connectors/ may not import policies/'],
    ['schema/resolver-context.ts', "import { PostgresConnector } from '../connectors/postgres/postgres-connector.ts';", 'only the connector port, never an adapter'],
    ['gateway/server.ts', "import { seed } from '../demo/seed-sources.ts';", 'only the runtime and the CLI import demo/'],
    ['gateway/server.ts', "import { run } from '../bench/run.ts';", 'never imports bench/'],
    ['policies/masks.ts', "export { x } from '../tests/setup.ts';", 'never imports tests/'],
  ])('fails on a planted wrong-way import in %s', (file, line, rule) => {
    const found = plant(file, line);
    expect(found.length).toBe(1);
    expect(found[0]!.rule).toContain(rule);
  });
});
