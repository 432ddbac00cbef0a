import { FairSlots, perAccountCap } from '../../src/delivery/fair-slots';

const due = (entries: Array<[string, string]>) => entries.map(([webhookId, accountId]) => ({ webhookId, accountId }));
const total = (grants: Map<string, number>) => [...grants.values()].reduce((sum, n) => sum + n, 0);

describe('fair slots', () => {
  it('caps an account at concurrency − perWebhook, so another account always finds a slot', () => {
    expect(perAccountCap({ concurrency: 50, perWebhook: 5 })).toBe(45);
    expect(perAccountCap({ concurrency: 5, perWebhook: 5 })).toBe(5);
    const slots = new FairSlots({ concurrency: 10, perWebhook: 2 });
    const manyDead = due(Array.from({ length: 20 }, (_, i): [string, string] => [`wh_x${i}`, 'acc_x']));
    const grants = slots.allocate(manyDead);
    expect(total(grants)).toBe(8);
    for (const [webhookId, count] of grants) for (let i = 0; i < count; i += 1) slots.take(webhookId, 'acc_x');
    // X holds its whole share; Y's one webhook still gets what its cap allows.
    const later = slots.allocate(due([['wh_x0', 'acc_x'], ['wh_y', 'acc_y']]));
    expect(later).toEqual(new Map([['wh_y', 2]]));
  });

  it('deals slots between accounts first, then between an account’s webhooks, never above a webhook’s cap', () => {
    const slots = new FairSlots({ concurrency: 12, perWebhook: 5 });
    const grants = slots.allocate(due([['wh_a1', 'acc_a'], ['wh_a2', 'acc_a'], ['wh_a3', 'acc_a'], ['wh_b1', 'acc_b']]));
    // 12 slots: b's one webhook takes its cap (5), a takes the rest (7, its account cap), spread over its three.
    expect(grants.get('wh_b1')).toBe(5);
    expect(['wh_a1', 'wh_a2', 'wh_a3'].map((id) => grants.get(id)).sort()).toEqual([2, 2, 3]);
    // With fewer slots than demand, the accounts alternate: 4 slots are 2 and 2.
    const scarce = new FairSlots({ concurrency: 4, perWebhook: 2 }).allocate(due([['wh_a1', 'acc_a'], ['wh_a2', 'acc_a'], ['wh_b1', 'acc_b']]));
    expect((scarce.get('wh_a1') ?? 0) + (scarce.get('wh_a2') ?? 0)).toBe(2);
    expect(scarce.get('wh_b1')).toBe(2);
  });

  it('lists webhooks at their cap, or whose account is at its cap, as not worth claiming for', () => {
    const slots = new FairSlots({ concurrency: 5, perWebhook: 2 });
    slots.take('wh_1', 'acc_a');
    slots.take('wh_1', 'acc_a');
    slots.take('wh_2', 'acc_b');
    expect(slots.saturated()).toEqual(['wh_1']);
    slots.take('wh_3', 'acc_b');
    slots.take('wh_3', 'acc_b');
    // acc_b holds 3 = 5 − 2: all its webhooks wait.
    expect(slots.saturated().sort()).toEqual(['wh_1', 'wh_2', 'wh_3']);
    slots.release('wh_3', 'acc_b');
    expect(slots.saturated()).toEqual(['wh_1']);
    expect(slots.free).toBe(1);
  });

  it('rotates the starting account, so no account is always served last', () => {
    const slots = new FairSlots({ concurrency: 2, perWebhook: 1 });
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i += 1) {
      const grants = slots.allocate(due([['wh_a', 'acc_a'], ['wh_b', 'acc_b'], ['wh_c', 'acc_c']]));
      expect(total(grants)).toBe(2);
      firsts.add([...grants.keys()].join());
    }
    expect(firsts.size).toBe(3);
  });
});
