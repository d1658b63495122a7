/**
 * A fast-check campaign of generated operations (tests/security/operation-campaign-model.ts:
 * fragments named and inline, nested and spread several times, aliases, variables valid and failing
 * coercion with demo ID numbers, names and phones, @include/@skip on literals and variables), sent
 * as JSON POST, GET, batch arrays and requests abandoned mid-flight, by every kind of caller: street
 * staff of a Huangpu and a Xuhui street (every duty of the demo is in force for one of them) and of
 * any demo street, a street admin, a data owner, an auditor, a platform admin, a department admin,
 * a district reviewer, a resident, no token and a forged token; under every duty of the demo's
 * catalogue and under purposes that are none. For every operation:
 *  (a) nothing outside the caller's access plan comes back: the plan is the gateway's own
 *      (`authorizer.plan(org, purpose)`), masked fields are the product's mask of the source value,
 *      and no row of another street or outside the plan's row conditions (the street from the demo
 *      data, the conditions through the product's own connector);
 *  (b) exactly one audit event (the events appended since the previous case, read after each one),
 *      naming the answer's request id and the caller's organisation, holding the subject hash of
 *      each person returned, and no ID number, phone, name or address of the demo data in clear;
 *  (c) the event loop never stalls over 100 ms. The gateway runs in a process of its own
 *      (tests/fixtures/campaign-gateway-process.ts), listening on loopback, because on the embedded
 *      backend PGlite runs on its main thread and this process's own generating and checking would
 *      stall the same loop; the bound is on the gateway's loop only. Every task of that loop (a
 *      callback or a promise reaction, timed by async_hooks; tests/fixtures/loop-probe.ts) is a
 *      stall when it runs over 100 ms and the gateway's process used over 100 ms of CPU in it: on a
 *      shared machine wall time alone measures the scheduler. None may. A 10 ms timer's lateness
 *      and perf_hooks' monitorEventLoopDelay are reported beside it, not asserted (over a long
 *      descheduled gap the process's other threads add up CPU too).
 * Then 2,000 concurrent operations of mixed callers (allowed, denied, refused, batched, aborted)
 * leave exactly one event for each request the gateway's server received (every one but an aborted
 * request whose client closed its socket before the server read it) and the chain verifies. Arriving at once, they queue on the cores and
 * the timer's ticks come late by that queue (reported, not asserted); the bound there is that no
 * single task of the gateway holds its loop over 100 ms of CPU, on PostgreSQL (embedded, a task may
 * be one of PGlite's statements, such as an audit batch's insert: reported).
 *
 * CAMPAIGN_RUNS sets the number of operations (default 250, about 20 s on PGlite on a quiet
 * machine); CAMPAIGN_SEED replays a failing run (the seed is printed at the start and in a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BACKENDS } from '../setup.ts';
import { SYNTHETIC_STREET_CODES } from '../../demo/synthetic-data.ts';
import { loadPolicyDirectory } from '../../policies/policy-files/load-policy-directory.ts';
import { startCampaignGateway, STALL_BOUND_MS, type CampaignGateway, type PlanView } from '../fixtures/campaign-gateway.ts';
import { ALL_FIELDS, operationOf, printOperation, SCALARS, type Operation, type Pools, type TypeName, type Values } from './operation-campaign-model.ts';
import { checkAnswer, checkEvent, indexDemo, streetProblems, type Caller, type Demo } from './operation-campaign-check.ts';
import { send, tokenFactory, type Mode, type Sent, type TokenFactory } from './operation-campaign-send.ts';

const NUM_RUNS = Number(process.env.CAMPAIGN_RUNS ?? 250);
const SEED = process.env.CAMPAIGN_SEED ? Number(process.env.CAMPAIGN_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;

const HUANGPU = '310101002';
const XUHUI = '310104003';
const TYPE_DATASET = { Person: 'population', House: 'housing', SocialSecurityAccount: 'social_security' } as const;

type CallerKind = Caller & { token: 'good' | 'none' | 'forged'; sub: string };

describe.each(BACKENDS)('operation campaign on %s', (backend) => {
  let gw: CampaignGateway;
  let demo: Demo;
  let tokens: TokenFactory;
  let duties: string[];
  const plans = new Map<string, PlanView>();
  const values = new Map<string, Values>();
  let residentId: string;

  beforeAll(async () => {
    gw = await startCampaignGateway({ backend, persons: 600, redis: !!process.env.TEST_REDIS_URL });
    tokens = tokenFactory(gw.secret);
    demo = indexDemo(await gw.demoData());
    duties = (await gw.duties()).map((d) => d.id).sort();
    residentId = [...demo.byKey.population.keys()][7]!;
  }, 180_000);
  afterAll(async () => gw?.close());

  const streets = [HUANGPU, XUHUI, ...SYNTHETIC_STREET_CODES.filter((s) => s !== HUANGPU && s !== XUHUI).slice(0, 8), '310101999'];
  const callers = (): CallerKind[] => [
    { label: 'clerk of Huangpu', org: `street:${HUANGPU}`, roles: ['street_staff'], token: 'good', sub: 'clerk-huangpu' },
    { label: 'clerk of Xuhui', org: `street:${XUHUI}`, roles: ['street_staff'], token: 'good', sub: 'clerk-xuhui' },
    ...streets.slice(2).map((s): CallerKind => ({ label: `clerk of ${s}`, org: `street:${s}`, roles: ['street_staff'], token: 'good', sub: `clerk-${s}` })),
    { label: 'street admin', org: `street:${HUANGPU}`, roles: ['street_admin'], token: 'good', sub: 'admin-huangpu' },
    { label: 'data owner', org: 'dept:public-security', roles: ['data_owner'], token: 'good', sub: 'owner-ps' },
    { label: 'auditor', org: 'office:security', roles: ['auditor'], token: 'good', sub: 'auditor' },
    { label: 'platform admin', org: 'platform', roles: ['platform_admin'], token: 'good', sub: 'platform' },
    { label: 'department admin', org: 'dept:civil-affairs', roles: ['department_admin'], token: 'good', sub: 'dept-admin' },
    { label: 'district reviewer', org: 'district:310101', roles: ['district_reviewer'], token: 'good', sub: 'reviewer' },
    // A resident's sub is their ID number; it must never reach the trail in clear.
    { label: 'resident', org: 'resident', roles: ['resident'], token: 'good', sub: residentId },
    { label: 'no token', org: null, roles: [], token: 'none', sub: '' },
    { label: 'forged token', org: `street:${HUANGPU}`, roles: ['street_staff'], token: 'forged', sub: residentId },
  ];

  const someOf = <T,>(list: readonly T[], n: number, offset = 0) => list.filter((_, i) => (i + offset) % Math.max(1, Math.floor(list.length / n)) === 0).slice(0, n);
  function valuesFor(org: string | null): Values {
    const street = org?.startsWith('street:') ? org.slice(7) : HUANGPU;
    if (!values.has(street)) {
      const persons = [...demo.byKey.population.values()];
      const own = persons.filter((p) => p.streetCode === street);
      const others = persons.filter((p) => p.streetCode !== street);
      const houses = [...demo.byKey.housing.values()];
      values.set(street, {
        // A street without residents (310101999) looks up other streets' persons only.
        ownIds: someOf((own.length > 0 ? own : others).map((p) => String(p.idNumber)), 20),
        otherIds: someOf(others.map((p) => String(p.idNumber)), 10),
        houses: [...someOf(houses.filter((h) => h.streetCode === street).map((h) => String(h.id)), 10), ...someOf(houses.map((h) => String(h.id)), 5)],
        names: someOf(persons.map((p) => String(p.name)), 30, 3),
        phones: someOf(persons.map((p) => String(p.phone)), 30, 5),
      });
    }
    return values.get(street)!;
  }

  const planKey = (org: string | null, purpose: string | undefined) => `${org}|${purpose}`;
  function poolsOf(plan: PlanView | undefined): Pools {
    if (!plan || plan.error || plan.refusal) return ALL_FIELDS;
    const scalars = {} as Record<TypeName, string[]>;
    const full = {} as Record<TypeName, string[]>;
    for (const type of Object.keys(SCALARS) as TypeName[]) {
      const fields = new Map(plan.datasets.find((d) => d.dataset === TYPE_DATASET[type])?.fields ?? []);
      scalars[type] = SCALARS[type].filter((f) => fields.has(f));
      full[type] = SCALARS[type].filter((f) => fields.get(f) === 'full');
    }
    return { scalars, full };
  }

  it('enumerates the duties of the demo policy files, as the gateway loaded them', async () => {
    const { set, problems } = await loadPolicyDirectory();
    expect(problems).toEqual([]);
    expect(duties).toEqual(set.duties.map((d) => d.id).sort());
    // Each duty is in force for one of the two fixed clerks' streets: the campaign reaches every plan.
    for (const duty of set.duties) {
      const inForce = [HUANGPU, XUHUI].filter((s) => duty.streets === 'all' || duty.streets.includes(s));
      expect(inForce.length, duty.id).toBeGreaterThan(0);
    }
  });

  it('its checks find what they look for (they are not vacuous)', async () => {
    const clerk = await tokens.good({ sub: 'self-check', org: `street:${HUANGPU}`, roles: ['street_staff'] });
    const op: Operation = {
      roots: [{ kind: 'connection', field: 'people', type: 'Person', totalCount: false, node: [{ kind: 'field', name: 'idNumber', alias: true, directive: 'none' }, { kind: 'field', name: 'hukouAddress', alias: false, directive: 'none' }] }],
      name: null,
      inc: true,
      skp: false,
      extra: undefined,
    };
    const printed = printOperation(op);
    const sent = await send(gw.base, 'post', [printed], { token: clerk, purpose: 'elderly-allowance' });
    expect(sent.body.errors).toBeUndefined();
    const caller: Caller = { label: 'clerk', org: `street:${HUANGPU}`, roles: ['street_staff'] };
    const own = await gw.plan(caller.org!, 'elderly-allowance');
    const right = checkAnswer(sent.body.data, op, own, caller, demo);
    expect(right.problems).toEqual([]);
    expect(right.returned.persons.size).toBeGreaterThan(0);
    // Under rental-registration idNumber is masked and hukouAddress not granted; another street's plan owns none of these rows.
    expect(checkAnswer(sent.body.data, op, await gw.plan(caller.org!, 'rental-registration'), caller, demo).problems.join('\n')).toMatch(/hukouAddress came back/);
    const other = await gw.plan(`street:${XUHUI}`, 'elderly-allowance');
    expect(streetProblems(checkAnswer(sent.body.data, op, other, caller, demo).returned, other.street, demo).length).toBeGreaterThan(0);
    const [event] = await gw.newEvents();
    const hashes = await gw.subjectHashes([...right.returned.persons]);
    expect(checkEvent(event!, { requestId: sent.requestId, org: caller.org, subjects: hashes }, demo)).toEqual([]);
    const person = demo.byKey.population.get([...right.returned.persons][0]!)!;
    const leaky = { ...event, reason: `looked up ${person.name} at ${person.phone}` };
    expect(checkEvent(leaky, { requestId: sent.requestId, org: caller.org, subjects: hashes }, demo).join('\n')).toMatch(/11 digits[\s\S]*in clear/);
    // Both probes see a task that holds the gateway's loop for 200 ms of its CPU.
    await gw.resetProbe();
    await gw.startTaskProbe();
    await gw.spin(2 * STALL_BOUND_MS);
    await new Promise((r) => setTimeout(r, 50));
    expect((await gw.probe()).stalls.length).toBeGreaterThan(0);
    expect((await gw.stopTaskProbe()).stalls.length).toBeGreaterThan(0);
  });

  it(`${NUM_RUNS} generated operations by every role under every duty: nothing outside the plan, one clean event each, no stall`, async () => {
    console.info(`operation campaign seed ${SEED} (replay: CAMPAIGN_SEED=${SEED})`);
    const everyone = callers();
    const purposes: (string | undefined)[] = [...duties, undefined, 'no-such-duty', 'ELDERLY-ALLOWANCE', '=HYPERLINK("http://x")'];
    const persons = [...demo.byKey.population.values()];
    // Purposes made of personal data: an ID number and a phone have the form of a duty id.
    purposes.push(String(persons[3]!.idNumber), String(persons[4]!.phone));
    for (const c of everyone) for (const p of purposes) if (c.org) plans.set(planKey(c.org, p), await gw.plan(c.org, p ?? ''));
    const caseRefs = [undefined, undefined, undefined, 'MZ-2026-0042', `case of ${persons[5]!.idNumber}`, `call ${persons[6]!.phone}`];

    const scenarioOf = (callers: fc.Arbitrary<(typeof everyone)[number]>) => fc
      .record({
        caller: callers,
        purpose: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...duties) }, { weight: 1, arbitrary: fc.constantFrom(...purposes) }),
        caseRef: fc.constantFrom(...caseRefs),
        mode: fc.constantFrom<Mode>('post', 'post', 'post', 'post', 'post', 'get', 'get', 'batch', 'abort'),
        abortAfterMs: fc.integer({ min: 0, max: 30 }),
        granted: fc.integer({ min: 0, max: 4 }),
      })
      .chain((s) => {
        const plan = s.caller.org ? plans.get(planKey(s.caller.org, s.purpose)) : undefined;
        const pools = s.granted === 0 ? ALL_FIELDS : poolsOf(plan);
        const others = !s.caller.roles.includes('street_staff') || s.granted === 0;
        return fc.array(operationOf(pools, valuesFor(s.caller.org), others), { minLength: s.mode === 'batch' ? 2 : 1, maxLength: s.mode === 'batch' ? 3 : 1 }).map((ops) => ({ ...s, ops }));
      });
    // Half the operations by the two fixed clerks (whose duties reach data), the rest by anyone.
    const scenario = scenarioOf(fc.oneof({ weight: 1, arbitrary: fc.constantFrom(everyone[0]!, everyone[1]!) }, { weight: 1, arbitrary: fc.constantFrom(...everyone) }));

    const outcomes = new Map<string, number>();
    const tally = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const seenDuties = new Set<string>();
    const seenCallers = new Set<string>();
    let sentCount = 0;
    const before = await gw.eventCount();
    await gw.newEvents();
    await gw.resetProbe();
    await gw.startTaskProbe();

    const runCase = async (s: typeof scenario extends fc.Arbitrary<infer T> ? T : never) => {
        const { caller } = s;
        const token = caller.token === 'none' ? undefined : caller.token === 'good' ? await tokens.good({ sub: caller.sub, org: caller.org!, roles: [...caller.roles] }) : await tokens.forged({ sub: caller.sub, org: caller.org!, roles: [...caller.roles] });
        const printed = s.ops.map(printOperation);
        const sent: Sent = await send(gw.base, s.mode, printed, { token, purpose: s.purpose, caseRef: s.caseRef }, s.abortAfterMs);
        sentCount++;
        seenCallers.add(caller.label);
        if (s.purpose && duties.includes(s.purpose)) seenDuties.add(s.purpose);
        const problems: string[] = [];
        const first = sent.body?.errors?.[0]?.extensions;
        const code = sent.aborted ? 'aborted' : first?.code ? `${first.code}${first.limit ? `:${first.limit}` : ''}` : sent.body?.data ? 'DATA' : String(sent.status);
        tally(s.mode === 'batch' ? `batch:${code}` : code);
        if (!sent.aborted && sent.status >= 500 && sent.status !== 503) problems.push(`HTTP ${sent.status}`);
        for (const e of sent.body?.errors ?? []) if (e.extensions?.code === 'INTERNAL_SERVER_ERROR') problems.push(`internal error: ${e.message}`);
        const plan = caller.token === 'good' && caller.org ? plans.get(planKey(caller.org, s.purpose)) ?? null : null;
        let subjects: string[] = [];
        if (s.mode === 'batch' && !sent.aborted) {
          // One operation per request: a batch array is refused whole, nothing runs.
          if (caller.token === 'good' ? sent.status !== 400 : sent.status !== 401) problems.push(`a batch got HTTP ${sent.status}`);
          if (Array.isArray(sent.body) || sent.body?.data) problems.push(`a batch was answered: ${JSON.stringify(sent.body).slice(0, 300)}`);
        } else if (!sent.aborted && sent.body?.data) {
          const checked = checkAnswer(sent.body.data, s.ops[0]!, plan, caller, demo);
          problems.push(...checked.problems);
          if (plan && !plan.error) {
            problems.push(...streetProblems(checked.returned, plan.street, demo));
            for (const dataset of ['population', 'housing'] as const) {
              const keys = [...checked.returned.keys[dataset]];
              const scope = plan.datasets.find((d) => d.dataset === dataset)?.scope;
              if (keys.length === 0 || !scope) continue;
              const inScope = new Set(await gw.inScope(dataset, scope, keys));
              for (const k of keys) if (!inScope.has(k)) problems.push(`${dataset} row ${k} is outside the plan's scope ${JSON.stringify(scope)}`);
            }
          }
          subjects = await gw.subjectHashes([...checked.returned.persons]);
        }
        // (b) exactly one event: the ones appended since the previous case (an abandoned request's may come a moment later).
        let events = await gw.newEvents();
        for (let waited = 0; events.length === 0 && waited < 15_000; waited += 25) {
          await new Promise((r) => setTimeout(r, 25));
          events = await gw.newEvents();
        }
        if (events.length !== 1) problems.push(`${events.length} events for one operation: ${JSON.stringify(events.map((e) => [e.request_id, e.decision, e.reason]))}`);
        const org = caller.token === 'good' ? caller.org : null;
        for (const event of events) problems.push(...checkEvent(event, { requestId: sent.requestId, org, subjects }, demo));
        if (problems.length > 0) {
          throw new Error(
            `${problems.join('\n')}\ncaller ${caller.label} (${caller.org}), purpose ${JSON.stringify(s.purpose)}, case ref ${JSON.stringify(s.caseRef)}, mode ${s.mode}\n` +
              `${printed.map((p) => `${p.query}\nvariables ${JSON.stringify(p.variables)}`).join('\n')}\nHTTP ${sent.status} ${JSON.stringify(sent.body).slice(0, 1500)}`,
          );
        }
    };
    await fc.assert(fc.asyncProperty(scenario, runCase), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true });
    // Every caller takes part: one drawn from the same seed for each the random draw left out.
    for (const caller of everyone) {
      if (!seenCallers.has(caller.label)) await runCase(fc.sample(scenarioOf(fc.constant(caller)), { numRuns: 1, seed: SEED })[0]!);
    }

    const tasks = await gw.stopTaskProbe();
    const loop = await gw.probe();
    console.info(`campaign outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    console.info(`gateway loop over the campaign (loaded shared machine): ticks ${JSON.stringify(loop)}, tasks ${JSON.stringify(tasks)}`);
    // Everything sent left its event, and nothing else did.
    expect((await gw.eventCount()) - before).toBe(sentCount);
    // (c) no turn of the gateway's loop ran over the bound.
    expect(tasks.stalls, `tasks of the gateway's loop over ${STALL_BOUND_MS} ms of CPU`).toEqual([]);
    expect(loop.ticks).toBeGreaterThan(0);
    expect(tasks.tasks).toBeGreaterThan(NUM_RUNS);
    // The campaign reached real answers, refusals of each kind, every duty and every caller.
    expect(outcomes.get('DATA') ?? 0, JSON.stringify([...outcomes])).toBeGreaterThan(NUM_RUNS / 10);
    for (const code of ['FORBIDDEN', 'BAD_USER_INPUT', 'UNAUTHENTICATED', 'aborted', 'batch:BAD_REQUEST']) expect(outcomes.get(code) ?? 0, code).toBeGreaterThan(0);
    expect([...seenDuties].sort()).toEqual(duties);
    expect(seenCallers.size).toBe(everyone.length);
    const chain = await gw.verify();
    expect(chain.firstProblem).toBeNull();
    expect(chain.intact).toBe(true);
  }, 300_000);

  it('2,000 concurrent operations of mixed callers, allowed, denied, refused and aborted: one event for each the gateway received (all but aborted ones that never arrived); the chain verifies', async () => {
    const persons = [...demo.byKey.population.values()];
    const clerkA = await tokens.good({ sub: 'load-a', org: `street:${HUANGPU}`, roles: ['street_staff'] });
    const clerkB = await tokens.good({ sub: 'load-b', org: `street:${XUHUI}`, roles: ['street_staff'] });
    const auditor = await tokens.good({ sub: 'load-auditor', org: 'office:security', roles: ['auditor'] });
    // Residents have a budget of their own (60 a minute): each asks once.
    const residents = await Promise.all(persons.slice(0, 100).map((p) => tokens.good({ sub: String(p.idNumber), org: 'resident', roles: ['resident'] })));
    const owner = await tokens.good({ sub: 'load-owner', org: 'dept:public-security', roles: ['data_owner'] });
    type Kind = 'allow' | 'deny' | 'aborted';
    const op = (query: string, variables: Record<string, unknown> = {}) => [{ query, variables, operationName: null }];
    const plan = Array.from({ length: 2000 }, (_, i): { kind: Kind; run: () => Promise<Sent> } => {
      const page = op(`{ people(first: ${(i % 5) + 1}) { edges { node { idNumber name } } } }`);
      switch (i % 10) {
        case 0:
        case 1:
          return { kind: 'allow', run: () => send(gw.base, 'post', page, { token: clerkA, purpose: 'elderly-allowance' }) };
        case 2:
          return { kind: 'allow', run: () => send(gw.base, 'get', op('query($id: ID!) { person(idNumber: $id) { idNumber name } }', { id: persons[i % persons.length]!.idNumber }), { token: clerkB, purpose: 'minimum-living-assistance' }) };
        case 3:
          return { kind: 'allow', run: () => send(gw.base, 'post', op('{ houses(first: 2) { edges { node { address usage } } } }'), { token: clerkB, purpose: 'illegal-construction' }) };
        case 4:
          return { kind: 'deny', run: () => send(gw.base, 'post', op('{ people(first: 3) { edges { node { phone } } } }'), { token: clerkA, purpose: 'elderly-allowance' }) };
        case 5:
          return { kind: 'deny', run: () => send(gw.base, 'post', page, { purpose: 'elderly-allowance' }) };
        case 6:
          return { kind: 'allow', run: () => send(gw.base, 'post', op('{ auditEvents(first: 1) { edges { node { seq } } } }'), { token: auditor }) };
        case 7:
          return { kind: i % 20 === 7 ? 'allow' : 'deny', run: () => send(gw.base, 'post', op('{ myDataAccess(first: 1) { totalCount } }'), { token: i % 20 === 7 ? residents[(i - 7) / 20]! : owner }) };
        case 8:
          return { kind: 'aborted', run: () => send(gw.base, 'abort', page, { token: clerkA, purpose: 'elderly-allowance' }, i % 4) };
        default:
          return { kind: 'deny', run: () => send(gw.base, 'batch', [...page, ...page], { token: clerkB, purpose: 'elderly-allowance' }) };
      }
    });
    await gw.newEvents();
    const before = await gw.eventCount();
    const receivedBefore = await gw.received();
    await gw.resetProbe();
    await gw.startTaskProbe();
    // On two shared cores a burst of 2,000 new connections now and then overflows the listen queue
    // and the kernel resets a connection: such a client, like an aborting one, has no answer to
    // check, and whether its request reached the gateway shows in the counts below, which hold
    // either way (one event per request the server received).
    let resets = 0;
    const reset = (error: unknown): Sent => {
      if ((error as { code?: string }).code !== 'ECONNRESET') throw error;
      resets += 1;
      return { aborted: true, status: 0, requestId: null, body: null };
    };
    const answers = await Promise.all(plan.map(async (p) => ({ kind: p.kind, sent: await p.run().catch(reset) })));
    expect(resets, 'connections reset before an answer').toBeLessThan(100);
    // Every request the gateway received leaves its event. An aborting client closes its socket
    // 0–3 ms after writing: under this burst the server may not have read that request at all
    // (it never reached the gateway, so nothing ran and there is nothing to record). Every other
    // request must have arrived.
    // An aborting client is done as soon as it has closed its socket, which may be before the
    // server has parsed what it sent: count the requests once the server holds no connection.
    for (let waited = 0; (await gw.connections()) > 0 && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(await gw.connections(), 'connections the gateway still holds after every client is done').toBe(0);
    const received = (await gw.received()) - receivedBefore;
    expect(received).toBeGreaterThanOrEqual(1800);
    expect(received).toBeLessThanOrEqual(2000);
    let events: Record<string, any>[] = [];
    for (let waited = 0; events.length < received && waited < 120_000; waited += 100) {
      events = events.concat(await gw.newEvents());
      if (events.length < received) await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    events = events.concat(await gw.newEvents());
    const tasks = await gw.stopTaskProbe();
    const loop = await gw.probe();
    console.info(`gateway loop over 2,000 concurrent operations (loaded shared machine): ticks ${JSON.stringify(loop)}, tasks ${JSON.stringify(tasks)}`);
    // 2,000 requests arriving at once queue on two shared cores: the timer ticks come late by the
    // queue (reported above), but no single task of the gateway holds its loop over the bound. On
    // PostgreSQL every task is the gateway's own work. Embedded, PGlite runs each statement inside a
    // task of the same loop (an audit batch of up to 1,000 events is one insert), so there the
    // figure is reported, not bounded.
    if (backend === 'postgres') expect(tasks.stalls, `tasks of the gateway's loop over ${STALL_BOUND_MS} ms of CPU`).toEqual([]);
    expect(tasks.tasks).toBeGreaterThan(2000);
    const recorded = new Set(events.map((e) => e.request_id as string));
    const unrecorded = answers.filter((a) => !a.sent.aborted && !recorded.has(a.sent.requestId!)).map((a) => `${a.kind} ${a.sent.status} ${JSON.stringify(a.sent.body).slice(0, 160)}`);
    expect(unrecorded, 'answers with no event').toEqual([]);
    expect(events.length).toBe(received);
    expect((await gw.eventCount()) - before).toBe(received);
    const byRequest = new Map(events.map((e) => [e.request_id as string, e]));
    expect(byRequest.size).toBe(received);
    for (const { kind, sent } of answers) {
      if (sent.aborted) continue; // an abandoned request is counted above; its answer never came
      const event = byRequest.get(sent.requestId!);
      expect(event, `${kind} ${sent.status} ${JSON.stringify(sent.body).slice(0, 200)}`).toBeDefined();
      if (kind !== 'aborted') expect(event!.decision, JSON.stringify(sent.body).slice(0, 300)).toBe(kind);
    }
    expect(answers.filter((a) => a.kind === 'aborted' && a.sent.aborted).length).toBeGreaterThan(0);
    for (const event of events) expect(checkEvent(event, { requestId: null, org: event.actor_org, subjects: [] }, demo)).toEqual([]);
    const chain = await gw.verify();
    expect(chain.firstProblem).toBeNull();
    expect(chain.intact).toBe(true);
  }, 240_000);
});
