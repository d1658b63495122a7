/**
 * The Authorizer port and its Casbin adapter.
 *
 * Casbin holds the rules (policy lines derived from grants, loaded through the kysely adapter);
 * `enforceEx` names the deciding rule. Plans are compiled per (org, purpose) and cached until the
 * policy version changes or a grant's validity period begins or ends.
 *
 * Fail-closed: if the policies cannot be (re)loaded, {@link Authorizer.plan} throws
 * SERVICE_UNAVAILABLE instead of answering from a state it can no longer vouch for.
 */
import { fileURLToPath } from 'node:url';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import fs from 'node:fs';
import { GatewayError } from '../gateway/errors.ts';
import type { AccessPlan, FieldDecision } from './access-plan.ts';
import { compileAccessPlan, grantIsValid } from './grant-compiler.ts';
import type { DutyDef } from './policy-files.ts';
import { KyselyCasbinAdapter, type PolicyStore, type StoredGrant } from './policy-store.ts';

export interface Authorizer {
  /** The access plan for (org, purpose) at `now`; cached. Throws SERVICE_UNAVAILABLE when stale. */
  plan(org: string, purpose: string, now?: number): AccessPlan;
  /** Per-field decisions with the deciding grant or rule, without reading data. */
  explain(org: string, purpose: string, fields: readonly string[]): FieldDecision[];
  duties(): readonly DutyDef[];
  /** Grants currently loaded (revoked ones included). */
  grants(): readonly StoredGrant[];
  readonly version: number;
  /** Reloads from the store if its policy version moved (or always, with force). */
  reload(force?: boolean): Promise<void>;
}

export const MODEL_PATH = fileURLToPath(new URL('./model.conf', import.meta.url));

export interface CasbinAuthorizerOptions {
  readonly store: PolicyStore;
  /** Called after every successful reload (metrics, logs). */
  readonly onReload?: (version: number, ms: number) => void;
  /** Called when a reload fails; the authorizer then refuses to decide until one succeeds. */
  readonly onError?: (error: unknown) => void;
}

export class CasbinAuthorizer implements Authorizer {
  #enforcer!: Enforcer;
  #duties = new Map<string, DutyDef>();
  #grants = new Map<string, StoredGrant>();
  #version = 0;
  #stale = true;
  #cache = new Map<string, AccessPlan>();
  #reloading: Promise<void> | undefined;
  readonly #options: CasbinAuthorizerOptions;

  private constructor(options: CasbinAuthorizerOptions) {
    this.#options = options;
  }

  static async create(options: CasbinAuthorizerOptions): Promise<CasbinAuthorizer> {
    const authorizer = new CasbinAuthorizer(options);
    const model = newModelFromString(fs.readFileSync(MODEL_PATH, 'utf8'));
    authorizer.#enforcer = await newEnforcer(model, new KyselyCasbinAdapter(options.store));
    // Looked up at decision time, so an expired grant stops counting the moment it expires.
    await authorizer.#enforcer.addFunction('grantValid', (id: string) => grantIsValid(authorizer.#grants.get(id), Date.now()));
    await authorizer.reload(true);
    return authorizer;
  }

  get version(): number {
    return this.#version;
  }

  plan(org: string, purpose: string, now = Date.now()): AccessPlan {
    if (this.#stale) throw new GatewayError('SERVICE_UNAVAILABLE', 'policy engine is unavailable');
    const key = `${org}\u0000${purpose}`;
    const cached = this.#cache.get(key);
    if (cached && cached.expiresAt > now) return cached;
    const plan = compileAccessPlan({
      org,
      purpose,
      duties: this.#duties,
      grants: this.#grants,
      decide: (sub, dom, obj, act) => this.#enforcer.enforceExSync(sub, dom, obj, act),
      policyVersion: this.#version,
      now,
    });
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(key, plan);
    return plan;
  }

  explain(org: string, purpose: string, fields: readonly string[]): FieldDecision[] {
    const plan = this.plan(org, purpose);
    return fields.map(
      (field) => plan.decisions.get(field) ?? { field, access: 'denied', grant: null, rule: `unknown field ${field}` },
    );
  }

  duties(): readonly DutyDef[] {
    return [...this.#duties.values()];
  }

  grants(): readonly StoredGrant[] {
    return [...this.#grants.values()];
  }

  reload(force = false): Promise<void> {
    // Concurrent notifications collapse into the reload in flight, then one more if forced.
    const run = async () => {
      const started = performance.now();
      try {
        const store = this.#options.store;
        const version = await store.version();
        if (!force && !this.#stale && version === this.#version) return;
        const [duties, grants] = await Promise.all([store.duties(), store.grants()]);
        await this.#enforcer.loadPolicy();
        this.#duties = new Map(duties.map((d) => [d.id, d]));
        this.#grants = new Map(grants.map((g) => [g.id, g]));
        this.#version = version;
        this.#cache.clear();
        this.#stale = false;
        this.#options.onReload?.(version, performance.now() - started);
      } catch (error) {
        this.#stale = true;
        this.#cache.clear();
        this.#options.onError?.(error);
        throw error;
      }
    };
    const next = (this.#reloading ?? Promise.resolve()).catch(() => {}).then(run);
    this.#reloading = next.catch(() => {}).finally(() => {
      if (this.#reloading === next) this.#reloading = undefined;
    });
    return next;
  }

  /** Marks the policies as unverifiable (e.g. the store is unreachable) until the next reload. */
  markStale(): void {
    this.#stale = true;
    this.#cache.clear();
  }
}
