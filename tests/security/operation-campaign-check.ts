/**
 * The campaign's two checks. `checkAnswer`: every value that came back is a field of the caller's
 * access plan (as the gateway's own authorizer compiled it), a masked field is exactly the product's
 * mask of the source's value (or, where the row cannot be told, none of the demo's clear values),
 * and every row whose key came back belongs to the caller's street. `checkEvent`: the one event of
 * an operation names it, holds the subject hash of each person returned, and carries no ID number,
 * phone, name or address of the demo data in clear anywhere outside its hashes.
 */
import { DATASETS, fieldDef, type DatasetName } from '../../core/datasets.ts';
import { applyMask } from '../../policies/masks.ts';
import { scrubText } from '../../core/personal-data.ts';
import type { DemoRow, PlanView } from '../fixtures/campaign-gateway.ts';
import { fieldOfKey, RELATIONS, type Operation, type TypeName } from './operation-campaign-model.ts';

const TYPE_DATASET: Readonly<Record<TypeName, DatasetName>> = { Person: 'population', House: 'housing', SocialSecurityAccount: 'social_security' };

/** The demo data, indexed for the checks. */
export interface Demo {
  readonly byKey: Readonly<Record<DatasetName, ReadonlyMap<string, DemoRow>>>;
  /** `dataset.field` → every clear string value it has in the demo. */
  readonly clear: ReadonlyMap<string, ReadonlySet<string>>;
  /** Names and addresses, the personal data no pattern recognises. */
  readonly texts: readonly string[];
}

export function indexDemo(data: Record<DatasetName, DemoRow[]>): Demo {
  const byKey = {} as Record<DatasetName, Map<string, DemoRow>>;
  const clear = new Map<string, Set<string>>();
  for (const dataset of Object.keys(data) as DatasetName[]) {
    const key = DATASETS[dataset].key;
    byKey[dataset] = new Map(data[dataset].map((row) => [String(row[key]), row]));
    for (const row of data[dataset]) {
      for (const [field, value] of Object.entries(row)) {
        if (typeof value !== 'string') continue;
        const name = `${dataset}.${field}`;
        if (!clear.has(name)) clear.set(name, new Set());
        clear.get(name)!.add(value);
      }
    }
  }
  const texts = new Set<string>();
  for (const field of ['population.name', 'population.hukouAddress', 'population.residenceAddress', 'housing.address', 'housing.ownerName']) {
    for (const value of clear.get(field) ?? []) texts.add(value);
  }
  return { byKey, clear, texts: [...texts] };
}

/** Keys of the rows an answer returned, per dataset, and the persons (ID numbers) it named. */
export interface Returned {
  readonly keys: Record<DatasetName, Set<string>>;
  readonly persons: Set<string>;
}

export interface Caller {
  readonly label: string;
  readonly org: string | null;
  readonly roles: readonly string[];
}

export function checkAnswer(data: any, operation: Operation, plan: PlanView | null, caller: Caller, demo: Demo): { problems: string[]; returned: Returned } {
  const problems: string[] = [];
  const returned: Returned = { keys: { population: new Set(), housing: new Set(), social_security: new Set() }, persons: new Set() };
  const readsData = caller.roles.includes('street_staff') && !!plan && !plan.error && !plan.refusal;
  const access = (dataset: DatasetName) => (readsData ? plan!.datasets.find((d) => d.dataset === dataset) : undefined);

  const checkObject = (type: TypeName, object: any, at: string) => {
    if (object === null || object === undefined) return;
    const dataset = TYPE_DATASET[type];
    const granted = access(dataset);
    if (!granted) {
      problems.push(`${at}: a ${type} came back without any plan on ${dataset}: ${JSON.stringify(object).slice(0, 200)}`);
      return;
    }
    const fields = new Map(granted.fields);
    const varies = new Set(granted.varies);
    const keyField = DATASETS[dataset].key;
    const keyValue = Object.entries(object).find(([k]) => fieldOfKey(k) === keyField)?.[1];
    const key = typeof keyValue === 'string' && fields.get(keyField) === 'full' && !varies.has(keyField) ? keyValue : undefined;
    const row = key === undefined ? undefined : demo.byKey[dataset].get(key);
    if (key !== undefined) {
      if (!row) problems.push(`${at}: ${dataset} key ${key} is not in the demo data`);
      returned.keys[dataset].add(key);
      if (dataset !== 'housing') returned.persons.add(key);
    }
    for (const [responseKey, value] of Object.entries(object)) {
      const field = fieldOfKey(responseKey);
      if (field === '__typename') continue;
      const relation = RELATIONS[type].find(([n]) => n === field);
      if (relation) {
        for (const item of Array.isArray(value) ? value : [value]) checkObject(relation[1], item, `${at}.${field}`);
        continue;
      }
      if (value === null) continue;
      const level = fields.get(field);
      if (!level) {
        problems.push(`${at}: ${dataset}.${field} came back (${JSON.stringify(value)}) but the plan does not grant it`);
        continue;
      }
      if (varies.has(field)) continue; // its level is the row's: the overlapping-grants properties check it
      if (field === 'streetCode' && value !== plan!.street) problems.push(`${at}: streetCode ${value} is not the caller's street ${plan!.street}`);
      const source = row?.[field];
      if (level === 'masked') {
        if (row) {
          const expected = applyMask(fieldDef(DATASETS[dataset], field)?.mask, source);
          if (value !== expected) problems.push(`${at}: ${dataset}.${field} is granted masked: expected ${JSON.stringify(expected)}, got ${JSON.stringify(value)}`);
        } else if (demo.clear.get(`${dataset}.${field}`)?.has(String(value))) {
          problems.push(`${at}: ${dataset}.${field} is granted masked but came back as a clear demo value ${JSON.stringify(value)}`);
        }
      } else if (row && source !== undefined && field !== 'age' && String(value) !== String(source) && Number(value) !== Number(source)) {
        problems.push(`${at}: ${dataset}.${field} came back ${JSON.stringify(value)}, the source holds ${JSON.stringify(source)}`);
      }
    }
  };

  operation.roots.forEach((root, i) => {
    const value = data?.[`r${i}`];
    if (value === null || value === undefined) return;
    if (root.kind === 'other') {
      if (root.field === 'auditEvents' && !caller.roles.includes('auditor')) problems.push(`r${i}: auditEvents answered to ${caller.label}`);
      if (root.field === 'myDataAccess' && !(caller.org === 'resident' && caller.roles.includes('resident'))) problems.push(`r${i}: myDataAccess answered to ${caller.label}`);
      return;
    }
    if (root.kind === 'connection') {
      if (!readsData && (value.totalCount != null || (value.edges ?? []).length > 0)) problems.push(`r${i}: ${root.field} answered to ${caller.label} without a plan: ${JSON.stringify(value).slice(0, 200)}`);
      for (const edge of value.edges ?? []) checkObject(root.type, edge?.node, `r${i}.edges`);
      return;
    }
    checkObject(root.type, value, `r${i}`);
  });
  return { problems, returned };
}

/** Every row whose key came back is in the caller's street (from the demo data, independently of the gateway). */
export function streetProblems(returned: Returned, street: string | null, demo: Demo): string[] {
  const problems: string[] = [];
  const personStreet = (id: string) => demo.byKey.population.get(id)?.streetCode;
  for (const id of returned.keys.population) if (personStreet(id) !== street) problems.push(`person ${id} of street ${personStreet(id)} returned to street ${street}`);
  for (const id of returned.keys.social_security) if (personStreet(id) !== street) problems.push(`account ${id} of street ${personStreet(id)} returned to street ${street}`);
  for (const id of returned.keys.housing) {
    const s = demo.byKey.housing.get(id)?.streetCode;
    if (s !== street) problems.push(`house ${id} of street ${s} returned to street ${street}`);
  }
  return problems;
}

/** Columns that are hashes (of the chain, the document or the subjects), not text. */
const HASH_COLUMNS = new Set(['hash', 'prev_hash', 'subject_hashes', 'operation_hash']);
const SERVER_IDS = new Set(['request_id', 'chain_id', 'instance']);
/** An ID number or a phone is a run of 11 digits or more; nothing else the gateway writes is. */
const LONG_DIGITS = /\d{11,}/g;

export interface EventExpectation {
  readonly requestId: string | null;
  readonly org: string | null;
  /** Hashes the event's subjects must include (persons returned in full). */
  readonly subjects: readonly string[];
}

export function checkEvent(event: Record<string, any>, expected: EventExpectation, demo: Demo): string[] {
  const problems: string[] = [];
  if (expected.requestId && event.request_id !== expected.requestId) problems.push(`the event's request id ${event.request_id} is not the answer's ${expected.requestId}`);
  if (event.actor_org !== expected.org) problems.push(`the event names org ${event.actor_org}, the caller is ${expected.org}`);
  const hashes = new Set<string>(event.subject_hashes ?? []);
  for (const h of expected.subjects) if (!hashes.has(h)) problems.push(`subject hash ${h} of a returned person is not in the event`);
  const text = JSON.stringify(Object.entries(event).filter(([column]) => !HASH_COLUMNS.has(column)));
  // Server-made ids (a UUID's last group may be all digits) are not personal data.
  const written = JSON.stringify(Object.entries(event).filter(([column]) => !HASH_COLUMNS.has(column) && !SERVER_IDS.has(column)));
  for (const digits of written.match(LONG_DIGITS) ?? []) problems.push(`the event holds a run of ${digits.length} digits: ${digits}`);
  for (const value of demo.texts) if (text.includes(value)) problems.push(`the event holds the demo value ${value} in clear`);
  // The scrubber's rule for quoted text: only the product's own identifiers stay quoted; any other value is a placeholder.
  for (const column of ['reason', 'purpose', 'operation_name', 'case_ref']) {
    const value = event[column];
    if (typeof value !== 'string') continue;
    for (const [, inner] of value.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      if (scrubText(`"${inner}"`) !== `"${inner}"`) problems.push(`the event's ${column} quotes a value: ${value}`);
    }
  }
  for (const field of event.fields ?? []) if (scrubText(field) !== field) problems.push(`the event's field ${field} is not scrubbed`);
  return problems;
}
