/**
 * Authorizer.ensureCurrent, the check every read makes before it is decided: a read never rides
 * on a version check that began before it arrived (such a check may predate a withdrawal that
 * answered meanwhile), and however many reads arrive at once, the store sees at most two version
 * queries per round trip (the one in flight and the one every newcomer shares). A store that
 * cannot answer refuses the read (SERVICE_UNAVAILABLE), and a store that answers again serves.
 */
import { describe, expect, it } from 'vitest';
import { CasbinAuthorizer } from '../../policies/casbin/casbin-authorizer.ts';
import type { PolicyStore } from '../../policies/policy-store.ts';

/** A store whose version queries wait until released, counting them and when each was read. */
function slowStore() {
  let version = 1;
  let down = false;
  const pending: (() => void)[] = [];
  const reads: number[] = [];
  const store = {
    // The version is read when the query is sent; the answer arrives when released.
    version: () =>
      new Promise<number>((resolve, reject) => {
        const read = version;
        reads.push(read);
        pending.push(() => (down ? reject(new Error('store unreachable')) : resolve(read)));
      }),
    duties: async () => [{ id: 'd', title: 'd', delegatedBy: 'dept:x', streets: 'all' as const }],
    grants: async () => [],
    casbinRules: async () => [],
  } as unknown as PolicyStore;
  return {
    store,
    reads,
    bump: () => void version++,
    setDown: (value: boolean) => void (down = value),
    /** Answers every version query asked so far. */
    release: async () => {
      for (let i = 0; i < 5; i++) {
        while (pending.length > 0) pending.shift()!();
        await new Promise((r) => setTimeout(r, 0));
      }
    },
  };
}

async function authorizerOn(fake: ReturnType<typeof slowStore>) {
  const created = CasbinAuthorizer.create({ store: fake.store });
  await fake.release();
  return created;
}

describe('ensureCurrent', () => {
  it('a caller arriving while a check is in flight waits for a check that starts after it', async () => {
    const fake = slowStore();
    const authorizer = await authorizerOn(fake);
    const first = authorizer.ensureCurrent();
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.reads.at(-1)).toBe(1); // its query has read version 1
    fake.bump(); // a withdrawal commits and answers while that check is in flight…
    const second = authorizer.ensureCurrent(); // …then this read arrives
    await fake.release();
    await Promise.all([first, second]);
    expect(authorizer.version).toBe(2); // the second caller was not served on the first check's answer
  });

  it('a thousand concurrent callers cost at most two version queries', async () => {
    const fake = slowStore();
    const authorizer = await authorizerOn(fake);
    const before = fake.reads.length;
    const calls = Array.from({ length: 1000 }, () => authorizer.ensureCurrent());
    await fake.release();
    await Promise.all(calls);
    expect(fake.reads.length - before).toBeLessThanOrEqual(2);
  });

  it('refuses while the store cannot say, and serves again once it can', async () => {
    const fake = slowStore();
    const authorizer = await authorizerOn(fake);
    fake.setDown(true);
    const refused = authorizer.ensureCurrent();
    await fake.release();
    await expect(refused).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(() => authorizer.plan('street:310101002', 'd')).toThrow(/unavailable/);
    fake.setDown(false);
    const again = authorizer.ensureCurrent();
    await fake.release();
    await again;
    expect(authorizer.plan('street:310101002', 'd').refusal).toBeNull();
  });
});
