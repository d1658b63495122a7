/**
 * The duty keys residents and case references rely on, as the policy files write them: titleZh,
 * requiresCaseRef, disclosureDelayDays. Parsed and checked with the rest of the duty; wrong types
 * are problems with their line, never silently a default.
 */
import { describe, expect, it } from 'vitest';
import { parseDutiesFile } from '../../policies/policy-files/parse-policy-files.ts';
import { caseRefRefusal } from '../../policies/duty-disclosure.ts';

const duty = (extra: string) => `duties:
  - id: inspection
    title: Inspect
    delegatedBy: dept:urban-management
    streets: all
${extra}`;

describe('duty disclosure keys in the policy files', () => {
  it('reads them when present and leaves them out when absent', () => {
    const { duties, problems } = parseDutiesFile(duty('    titleZh: 巡查\n    requiresCaseRef: true\n    disclosureDelayDays: 30\n'), 'duties.yaml');
    expect(problems).toEqual([]);
    expect(duties[0]).toMatchObject({ titleZh: '巡查', requiresCaseRef: true, disclosureDelayDays: 30 });
    const plain = parseDutiesFile(duty(''), 'duties.yaml');
    expect(plain.duties[0]).toEqual({ id: 'inspection', title: 'Inspect', delegatedBy: 'dept:urban-management', streets: 'all' });
  });

  it.each([
    ['    requiresCaseRef: "yes"\n', /requiresCaseRef must be true or false/, 6],
    ['    disclosureDelayDays: -1\n', /disclosureDelayDays must be a whole number of days from 0 to 366/, 6],
    ['    disclosureDelayDays: 1.5\n', /disclosureDelayDays must be a whole number/, 6],
    ['    disclosureDelayDays: 400\n', /disclosureDelayDays must be a whole number/, 6],
    ['    titleZh: ""\n', /titleZh must be non-empty text/, 6],
    ['    disclosureDelay: 3\n', /unknown key 'disclosureDelay'/, 6],
  ])('%j is a problem on its line', (extra, message, line) => {
    const { problems } = parseDutiesFile(duty(extra), 'duties.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(message);
    expect(problems[0]!.line).toBe(line);
  });

  it('a duty requiring a case reference refuses a read without one, or with one that records as nothing', () => {
    const duties = [{ id: 'inspection', requiresCaseRef: true }, { id: 'other' }];
    expect(caseRefRefusal(duties, 'inspection', undefined)?.code).toBe('BAD_USER_INPUT');
    expect(caseRefRefusal(duties, 'inspection', ' \t ')?.code).toBe('BAD_USER_INPUT');
    expect(caseRefRefusal(duties, 'inspection', '\u0000\u0001')?.code).toBe('BAD_USER_INPUT');
    expect(caseRefRefusal(duties, 'inspection', 'XH-2026-17')).toBeNull();
    expect(caseRefRefusal(duties, 'other', undefined)).toBeNull();
    expect(caseRefRefusal(duties, 'unknown', undefined)).toBeNull();
  });
});
