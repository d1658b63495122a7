/**
 * Rate limits per role and per organisation, and their `RATE_LIMITS` notation:
 * `street_staff=600/min,auditor=120/min,org=6000/min` (units `s`, `min`, `h`). Roles not named
 * keep their default; `off` turns rate limiting off.
 */
import { ROLES, type Role } from '../../core/identity.ts';

/** Who a limit applies to: a user holding the role (per `sub`), or a whole organisation. */
export type RateLimitSubject = Role | 'org';

export interface RateLimitRule {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowMs: number;
}

export type RateLimitRules = Readonly<Record<RateLimitSubject, RateLimitRule>>;

const MINUTE = 60_000;

/** Street staff work interactively; auditors page through the trail; an organisation shares one budget. */
export const DEFAULT_RATE_LIMITS: RateLimitRules = {
  street_staff: { limit: 600, windowMs: MINUTE },
  street_admin: { limit: 300, windowMs: MINUTE },
  data_owner: { limit: 300, windowMs: MINUTE },
  auditor: { limit: 120, windowMs: MINUTE },
  platform_admin: { limit: 300, windowMs: MINUTE },
  department_admin: { limit: 300, windowMs: MINUTE },
  district_reviewer: { limit: 300, windowMs: MINUTE },
  resident: { limit: 60, windowMs: MINUTE },
  org: { limit: 6000, windowMs: MINUTE },
};

const UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: MINUTE,
  min: MINUTE,
  minute: MINUTE,
  h: 60 * MINUTE,
  hour: 60 * MINUTE,
};
const SUBJECTS: readonly string[] = [...ROLES, 'org'];

/** `600/min` for 600 a minute. */
export function describeRule(rule: RateLimitRule): string {
  const unit = rule.windowMs === 1000 ? 's' : rule.windowMs === MINUTE ? 'min' : rule.windowMs === 60 * MINUTE ? 'h' : `${rule.windowMs}ms`;
  return `${rule.limit}/${unit}`;
}

/**
 * Parses `RATE_LIMITS`. `rules` is null when limiting is turned off; every malformed entry is
 * reported in `problems`, naming the variable and the entry.
 */
export function parseRateLimits(text: string | undefined, variable = 'RATE_LIMITS'): { rules: RateLimitRules | null; problems: string[] } {
  const problems: string[] = [];
  if (text === undefined || text.trim() === '') return { rules: DEFAULT_RATE_LIMITS, problems };
  if (text.trim().toLowerCase() === 'off') return { rules: null, problems };
  const rules: Record<RateLimitSubject, RateLimitRule> = { ...DEFAULT_RATE_LIMITS };
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^([a-z_]+)\s*=\s*(\d+)\s*\/\s*([a-z]+)$/i.exec(entry);
    if (!match) {
      problems.push(`${variable}: "${entry}" is not SUBJECT=COUNT/UNIT (e.g. street_staff=600/min)`);
      continue;
    }
    const [, subject, count, unit] = match as unknown as [string, string, string, string];
    if (!SUBJECTS.includes(subject)) {
      problems.push(`${variable}: unknown subject "${subject}" (expected one of ${SUBJECTS.join(', ')})`);
      continue;
    }
    const windowMs = UNITS[unit.toLowerCase()];
    if (windowMs === undefined) {
      problems.push(`${variable}: unknown unit "${unit}" in "${entry}" (expected s, min or h)`);
      continue;
    }
    const limit = Number(count);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000_000) {
      problems.push(`${variable}: the count in "${entry}" must be from 1 to 10000000 (use RATE_LIMITS=off to turn limiting off)`);
      continue;
    }
    rules[subject as RateLimitSubject] = { limit, windowMs };
  }
  return { rules, problems };
}
