/**
 * The Casbin adapter of the {@link Authorizer} port.
 *
 * Casbin holds the rules (policy lines derived from grants, loaded through the kysely adapter);
 * `enforceEx` names the deciding rule. Plans are compiled per (org, purpose) and cached until the
 * policy version changes or a grant's validity period begins or ends.
 *
 * A plan's cost follows the lines that can match it, not the whole policy: the matcher only ever
 * matches a line whose duty is the request's and whose subject is the request's street or `*`, so
 * after each load the lines are indexed by (duty, subject), and a plan is decided by Casbin (same
 * model, matcher, effect and `grantValid`) on a scoped enforcer holding just those lines. At
 * 100,000 lines a cold plan scanned every line for each of its ~50 decisions (seconds, with the
 * event loop blocked); now it reads the few lines of one street and duty.
 *
 * Fail-closed: if the policies cannot be (re)loaded, {@link Authorizer.plan} throws
 * SERVICE_UNAVAILABLE instead of answering from a state it can no longer vouch for.
 */
import { fileURLToPath } from 'node:url';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import fs from 'node:fs';
import { GatewayError } from '../../core/errors.ts';
import type { AccessPlan, FieldDecision } from '../access-plan.ts';
import type { Authorizer } from '../authorizer.ts';
import { grantIsValid } from '../grant-admission.ts';
import { compileAccessPlan } from '../grant-compiler.ts';
import type { DutyDef } from '../policy-definitions.ts';
import type { PolicyStore, StoredGrant } from '../policy-store.ts';
import { KyselyCasbinAdapter } from './kysely-casbin-adapter.ts';
import { indexDelegations, NO_DELEGATIONS, type DelegationIndex, type DelegationWindow } from '../admission/delegation-windows.ts';

/** The matcher terms that make (duty, subject) an exact index of the lines a request can match. */
const INDEXED_MATCHER_PREFIX = '(p_sub==r_sub||p_sub=="*")&&p_dom==r_dom&&';

export const MODEL_PATH = fileURLToPath(new URL('../model.conf', import.meta.url));

/** What the authorizer reads of the policy store: its version, duties, grants and Casbin lines. */
export type PolicySource = Pick<PolicyStore, 'version' | 'duties' | 'grants' | 'casbinRules'>;

export interface CasbinAuthorizerOptions {
  readonly store: PolicySource;
  /** Called after every successful reload (metrics, logs). */
  readonly onReload?: (version: number, ms: number) => void;
  /** Called when a reload fails; the authorizer then refuses to decide until one succeeds. */
  readonly onError?: (error: unknown) => void;
  /** The admitted delegations in the store, loaded with every reload. Default: none. */
  readonly delegations?: () => Promise<readonly DelegationWindow[]>;
}

export class CasbinAuthorizer implements Authorizer {
  #enforcer!: Enforcer;
  /** Decides plans on a subset of the lines (see the module comment). */
  #scoped!: Enforcer;
  /** Policy lines (`p` rows: sub, dom, obj, act, eft, grant) by duty, then subject. */
  #lines = new Map<string, Map<string, string[][]>>();
  /** Whether model.conf's matcher still has the shape the index relies on (else: every line, every time). */
  #indexable = false;
  #duties = new Map<string, DutyDef>();
  /** The duties as a list, made once per reload: every read asks for it (the case-reference rule). */
  #dutyList: readonly DutyDef[] = Object.freeze([]);
  #grants = new Map<string, StoredGrant>();
  #delegations: DelegationIndex = NO_DELEGATIONS;
  /** The version check in flight, and the one queued behind it (see ensureCurrent). */
  #checking: Promise<void> | undefined;
  #queuedCheck: Promise<void> | undefined;
  #version = 0;
  #stale = true;
  #cache = new Map<string, AccessPlan>();
  #reloading: Promise<void> | undefined;
  /** The instant the plan being compiled decides at; Casbin's `grantValid` reads it. */
  #decidingAt: number | undefined;
  readonly #options: CasbinAuthorizerOptions;

  private constructor(options: CasbinAuthorizerOptions) {
    this.#options = options;
  }

  static async create(options: CasbinAuthorizerOptions): Promise<CasbinAuthorizer> {
    const authorizer = new CasbinAuthorizer(options);
    const model = newModelFromString(fs.readFileSync(MODEL_PATH, 'utf8'));
    authorizer.#enforcer = await newEnforcer(model, new KyselyCasbinAdapter(options.store));
    authorizer.#scoped = await newEnforcer(newModelFromString(fs.readFileSync(MODEL_PATH, 'utf8')));
    // Looked up at decision time, so an expired grant stops counting the moment it expires; a plan
    // decides every field at the one instant it is compiled for.
    const grantValid = (id: string) => grantIsValid(authorizer.#grants.get(id), authorizer.#decidingAt ?? Date.now());
    await authorizer.#enforcer.addFunction('grantValid', grantValid);
    await authorizer.#scoped.addFunction('grantValid', grantValid);
    const matcher = (model.model.get('m')?.get('m')?.value ?? '').replace(/\s+/g, '');
    authorizer.#indexable = matcher.startsWith(INDEXED_MATCHER_PREFIX);
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
    let plan: AccessPlan;
    this.#decidingAt = now;
    try {
      plan = compileAccessPlan({
        org,
        purpose,
        duties: this.#duties,
        grants: this.#grants,
        decide: (sub, dom, obj, act) => this.#decideScoped(sub, dom, obj, act),
        policyVersion: this.#version,
        now,
        delegations: this.#delegations,
      });
    } finally {
      this.#decidingAt = undefined;
    }
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(key, plan);
    return plan;
  }

  /** One decision by Casbin over the lines of (dom, sub) and (dom, `*`) only: the only ones its matcher can match. */
  #decideScoped(sub: string, dom: string, obj: string, act: string): [boolean, string[]] {
    const ast = this.#scoped.getModel().model.get('p')?.get('p');
    if (!ast || !this.#indexable) return this.#enforcer.enforceExSync(sub, dom, obj, act);
    const byDuty = this.#lines.get(dom);
    const own = byDuty?.get(sub) ?? [];
    const everyone = sub === '*' ? [] : (byDuty?.get('*') ?? []);
    ast.policy = everyone.length === 0 ? own : own.length === 0 ? everyone : [...own, ...everyone];
    try {
      return this.#scoped.enforceExSync(sub, dom, obj, act);
    } finally {
      ast.policy = [];
    }
  }

  explain(org: string, purpose: string, fields: readonly string[]): FieldDecision[] {
    const plan = this.plan(org, purpose);
    return fields.map(
      (field) => plan.decisions.get(field) ?? { field, access: 'denied', grant: null, rule: `unknown field ${field}` },
    );
  }

  duties(): readonly DutyDef[] {
    return this.#dutyList;
  }

  grants(): readonly StoredGrant[] {
    return [...this.#grants.values()];
  }

  delegations(): DelegationIndex {
    return this.#delegations;
  }

  ensureCurrent(): Promise<void> {
    // A check already in flight may have read the version before the caller arrived: it cannot
    // vouch for this caller. Everyone arriving meanwhile shares the one check queued behind it, so
    // the store sees at most one version query per round trip, however many reads come in.
    if (!this.#checking) return this.#startCheck();
    this.#queuedCheck ??= this.#checking.then(
      () => this.#startCheck(),
      () => this.#startCheck(),
    );
    return this.#queuedCheck;
  }

  #startCheck(): Promise<void> {
    this.#queuedCheck = undefined;
    const check = this.reload().catch((error: unknown) => {
      throw new GatewayError('SERVICE_UNAVAILABLE', 'policy engine is unavailable', { cause: error });
    });
    this.#checking = check;
    const clear = () => {
      if (this.#checking === check) this.#checking = undefined;
    };
    check.then(clear, clear);
    return check;
  }

  reload(force = false): Promise<void> {
    // Concurrent notifications collapse into the reload in flight, then one more if forced.
    const run = async () => {
      const started = performance.now();
      try {
        const store = this.#options.store;
        const version = await store.version();
        if (!force && !this.#stale && version === this.#version) return;
        const [duties, grants, delegations] = await Promise.all([
          store.duties(),
          store.grants(),
          this.#options.delegations ? this.#options.delegations() : Promise.resolve([]),
        ]);
        await this.#enforcer.loadPolicy();
        const lines = new Map<string, Map<string, string[][]>>();
        for (const line of this.#enforcer.getModel().model.get('p')?.get('p')?.policy ?? []) {
          const [sub, dom] = line;
          let byDuty = lines.get(dom!);
          if (!byDuty) lines.set(dom!, (byDuty = new Map()));
          let bySubject = byDuty.get(sub!);
          if (!bySubject) byDuty.set(sub!, (bySubject = []));
          bySubject.push(line);
        }
        this.#lines = lines;
        this.#duties = new Map(duties.map((d) => [d.id, d]));
        this.#dutyList = Object.freeze([...this.#duties.values()]);
        this.#grants = new Map(grants.map((g) => [g.id, g]));
        this.#delegations = indexDelegations(delegations);
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
