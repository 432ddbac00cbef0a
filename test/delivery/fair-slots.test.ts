import { EndpointHealth, HEALTHY_ANSWER_MS } from '../../src/delivery/endpoint-health';
import { FairSlots, healthyReserve, perAccountCap, SlotLimits } from '../../src/delivery/fair-slots';
import { ManualClock } from '../helpers/clock';

const due = (entries: Array<[string, string]>) => entries.map(([webhookId, accountId]) => ({ webhookId, accountId }));
const total = (grants: Map<string, number>) => [...grants.values()].reduce((sum, n) => sum + n, 0);
const noneSuspect = () => ({ suspect: 0, probing: 0 });
/** Every slot of the webhooks in `suspect` counts in the suspect lane; the others are trusted. */
const suspectIn = (suspect: Set<string>) => (webhookId: string, holding: number) => ({
  suspect: suspect.has(webhookId) ? holding : 0,
  probing: 0,
});
/** Limits with no reserve: one lane, as before lanes (for the tests of the dealing itself). */
const oneLane = (concurrency: number, perWebhook: number): SlotLimits => ({ concurrency, perWebhook, reserve: 0 });
const takeAll = (slots: FairSlots, grants: Map<string, number>, accountOf: (webhookId: string) => string) => {
  for (const [webhookId, count] of grants) for (let i = 0; i < count; i += 1) slots.take(webhookId, accountOf(webhookId));
};
/** `count` webhooks of `accountId`, named `<prefix><i>`. */
const webhooksOf = (accountId: string, prefix: string, count: number): Array<[string, string]> =>
  Array.from({ length: count }, (_, i): [string, string] => [`${prefix}${i}`, accountId]);

describe('fair slots', () => {
  it('caps an account at concurrency − perWebhook, so another account always finds a slot', () => {
    expect(perAccountCap(oneLane(50, 5))).toBe(45);
    expect(perAccountCap(oneLane(5, 5))).toBe(5);
    const slots = new FairSlots(oneLane(10, 2), noneSuspect);
    const grants = slots.allocate(due(webhooksOf('acc_x', 'wh_x', 20)));
    expect(total(grants)).toBe(8);
    takeAll(slots, grants, () => 'acc_x');
    // X holds its whole share; Y's one webhook still gets what its cap allows.
    const later = slots.allocate(
      due([
        ['wh_x0', 'acc_x'],
        ['wh_y', 'acc_y'],
      ]),
    );
    expect(later).toEqual(new Map([['wh_y', 2]]));
  });

  it('deals slots between accounts first, then between an account’s webhooks, never above a webhook’s cap', () => {
    const slots = new FairSlots(oneLane(12, 5), noneSuspect);
    const grants = slots.allocate(
      due([
        ['wh_a1', 'acc_a'],
        ['wh_a2', 'acc_a'],
        ['wh_a3', 'acc_a'],
        ['wh_b1', 'acc_b'],
      ]),
    );
    // 12 slots: b's one webhook takes its cap (5), a takes the rest (7, its account cap), spread over its three.
    expect(grants.get('wh_b1')).toBe(5);
    expect(['wh_a1', 'wh_a2', 'wh_a3'].map((id) => grants.get(id)).sort()).toEqual([2, 2, 3]);
    // With fewer slots than demand, the accounts alternate: 4 slots are 2 and 2.
    const scarce = new FairSlots(oneLane(4, 2), noneSuspect).allocate(
      due([
        ['wh_a1', 'acc_a'],
        ['wh_a2', 'acc_a'],
        ['wh_b1', 'acc_b'],
      ]),
    );
    expect((scarce.get('wh_a1') ?? 0) + (scarce.get('wh_a2') ?? 0)).toBe(2);
    expect(scarce.get('wh_b1')).toBe(2);
  });

  it('lists webhooks at their cap, or whose account is at its cap, as not worth claiming for', () => {
    const slots = new FairSlots(oneLane(5, 2), noneSuspect);
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
    const slots = new FairSlots(oneLane(2, 1), noneSuspect);
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i += 1) {
      const grants = slots.allocate(
        due([
          ['wh_a', 'acc_a'],
          ['wh_b', 'acc_b'],
          ['wh_c', 'acc_c'],
        ]),
      );
      expect(total(grants)).toBe(2);
      firsts.add([...grants.keys()].join());
    }
    expect(firsts.size).toBe(3);
  });
});

describe('lanes: suspect webhooks leave a reserve to those that answer', () => {
  it('reserves a fifth of the slots, at least one, never all', () => {
    expect(healthyReserve(50)).toBe(10);
    expect(healthyReserve(10)).toBe(2);
    expect(healthyReserve(4)).toBe(1);
    expect(healthyReserve(1)).toBe(0);
  });

  it('two accounts with forty dead webhooks each hold only the suspect lane; a third account’s healthy webhook gets slots at once', () => {
    const dead = new Set([...webhooksOf('acc_a', 'wh_a', 40), ...webhooksOf('acc_b', 'wh_b', 40)].map(([webhookId]) => webhookId));
    const slots = new FairSlots({ concurrency: 50, perWebhook: 5, reserve: 10 }, suspectIn(dead));
    const accountOf = (webhookId: string) => (webhookId.startsWith('wh_a') ? 'acc_a' : webhookId.startsWith('wh_b') ? 'acc_b' : 'acc_c');
    const greedy = due([...webhooksOf('acc_a', 'wh_a', 40), ...webhooksOf('acc_b', 'wh_b', 40)]);
    const first = slots.allocate(greedy);
    // 40 = 50 − 10, dealt between the two accounts first.
    expect(total(first)).toBe(40);
    expect(total(new Map([...first].filter(([id]) => id.startsWith('wh_a'))))).toBe(20);
    takeAll(slots, first, accountOf);
    // The dead ones get nothing more while their lane is full, even with ten slots free…
    expect(slots.free).toBe(10);
    expect(total(slots.allocate(greedy))).toBe(0);
    // …and are all listed as not worth claiming for.
    expect(slots.saturated().length).toBe(first.size);
    // The healthy webhook takes its cap (5) from the reserve, beside the dead ones' demand.
    const withHealthy = slots.allocate([...greedy, { webhookId: 'wh_c', accountId: 'acc_c' }]);
    expect(withHealthy).toEqual(new Map([['wh_c', 5]]));
  });

  it('lets webhooks not yet seen to answer take half the reserve with one probe each, never the other half', () => {
    const health = new EndpointHealth(new ManualClock());
    const slots = new FairSlots({ concurrency: 50, perWebhook: 5, reserve: 10 }, (webhookId, holding) =>
      health.untrusted(webhookId, holding),
    );
    const fresh = due([...webhooksOf('acc_a', 'wh_a', 40), ...webhooksOf('acc_b', 'wh_b', 40)]);
    const grants = slots.allocate(fresh);
    // 45 = 50 − 10 / 2, one each: eighty new webhooks, none known to answer.
    expect(total(grants)).toBe(45);
    expect(Math.max(...grants.values())).toBe(1);
    takeAll(slots, grants, (webhookId) => (webhookId.startsWith('wh_a') ? 'acc_a' : 'acc_b'));
    // A new webhook's probe waits too; one seen to answer does not.
    health.ended('wh_ok', health.started('wh_ok'), true);
    expect(slots.allocate([...fresh, { webhookId: 'wh_new', accountId: 'acc_c' }, { webhookId: 'wh_ok', accountId: 'acc_d' }])).toEqual(
      new Map([['wh_ok', 5]]),
    );
  });

  it('counts a webhook in the suspect lane once it turns suspect, with the slots it already holds', () => {
    const suspect = new Set<string>();
    const slots = new FairSlots({ concurrency: 10, perWebhook: 5, reserve: 3 }, suspectIn(suspect));
    slots.take('wh_1', 'acc_a');
    slots.take('wh_1', 'acc_a');
    slots.take('wh_1', 'acc_a');
    for (let i = 0; i < 5; i += 1) slots.take('wh_2', 'acc_b');
    // Eight held by webhooks that answer: a suspect one may still take up to 7 = 10 − 3, as far as slots are free.
    expect(slots.allocate(due([['wh_3', 'acc_c']]))).toEqual(new Map([['wh_3', 2]]));
    suspect.add('wh_2').add('wh_3');
    expect(slots.allocate(due([['wh_3', 'acc_c']]))).toEqual(new Map([['wh_3', 2]]));
    suspect.add('wh_1');
    // wh_1 and wh_2 now hold 8, one over the suspect lane: wh_3 waits, a webhook that answers does not.
    expect(
      slots.allocate(
        due([
          ['wh_3', 'acc_c'],
          ['wh_4', 'acc_c'],
        ]),
      ),
    ).toEqual(new Map([['wh_4', 2]]));
    expect(slots.promises()('wh_4', 'acc_c')).toBe(true);
    expect(slots.saturated().sort()).toEqual(['wh_1', 'wh_2']);
  });

  it('promises slots one at a time within every cap and lane, counting those promised before (the hand-off at commit)', () => {
    const suspect = new Set(['wh_dead']);
    const slots = new FairSlots({ concurrency: 6, perWebhook: 3, reserve: 2 }, suspectIn(suspect));
    slots.take('wh_dead', 'acc_a');
    slots.take('wh_dead', 'acc_a');
    const room = slots.promises();
    // The suspect lane has 4 − 2 = 2 left, but the webhook's cap (3) leaves one.
    expect(room('wh_dead', 'acc_a')).toBe(true);
    expect(room('wh_dead', 'acc_a')).toBe(false);
    // A webhook that answers may have the rest: 3 more (its cap), then nothing is free.
    expect([1, 2, 3, 4].map(() => room('wh_ok', 'acc_b'))).toEqual([true, true, true, false]);
    expect(room('wh_other', 'acc_c')).toBe(false);
    // Each hand-off counts from what is taken, not from what an earlier one promised.
    expect(slots.promises()('wh_other', 'acc_c')).toBe(true);
  });
});

describe('endpoint health', () => {
  it('a webhook not yet seen to answer holds one slot outside the suspect lane (a probe), the rest inside', () => {
    const health = new EndpointHealth(new ManualClock());
    expect([0, 1, 2, 5].map((holding) => health.untrusted('wh_new', holding))).toEqual([
      { suspect: 0, probing: 0 },
      { suspect: 0, probing: 1 },
      { suspect: 1, probing: 1 },
      { suspect: 4, probing: 1 },
    ]);
  });

  it('is suspect after a failure or an answer slower than a healthy one, until a 2xx within it', () => {
    const clock = new ManualClock();
    const health = new EndpointHealth(clock);
    let start = health.started('wh_1');
    clock.advance(30);
    health.ended('wh_1', start, true);
    expect(health.untrusted('wh_1', 5).suspect).toBe(0);

    start = health.started('wh_1');
    clock.advance(50);
    health.ended('wh_1', start, false);
    expect(health.untrusted('wh_1', 5).suspect).toBe(5);

    start = health.started('wh_1');
    clock.advance(10);
    health.ended('wh_1', start, true);
    expect(health.untrusted('wh_1', 5).suspect).toBe(0);

    // A 2xx that took longer than a healthy answer does not clear it.
    start = health.started('wh_1');
    clock.advance(HEALTHY_ANSWER_MS + 1);
    health.ended('wh_1', start, true);
    expect(health.untrusted('wh_1', 5).suspect).toBe(5);
    // Nor does an attempt that taught nothing (not sent, cut off).
    health.ended('wh_1', health.started('wh_1'), null);
    expect(health.untrusted('wh_1', 5).suspect).toBe(5);
  });

  it('is suspect while an attempt has been in flight longer than a healthy answer takes', () => {
    const clock = new ManualClock();
    const health = new EndpointHealth(clock);
    health.ended('wh_1', health.started('wh_1'), true);
    const slow = health.started('wh_1');
    clock.advance(HEALTHY_ANSWER_MS);
    const quick = health.started('wh_1');
    expect(health.untrusted('wh_1', 2).suspect).toBe(0);
    clock.advance(1);
    expect(health.untrusted('wh_1', 2).suspect).toBe(2);
    // The slow one ends unseen (cut off at shutdown): only the quick one is in flight, and it is young.
    health.ended('wh_1', slow, null);
    expect(health.untrusted('wh_1', 1).suspect).toBe(0);
    health.ended('wh_1', quick, true);
    expect(health.untrusted('wh_1', 1).suspect).toBe(0);
    // A change to the webhook forgets what was seen of it: a probe again.
    health.forget('wh_1');
    expect(health.untrusted('wh_1', 2)).toEqual({ suspect: 1, probing: 1 });
  });
});
