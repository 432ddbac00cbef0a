import { LaneScheduler } from '../../src/delivery/lane-scheduler';

/** A task that runs until the test ends it. */
interface Task {
  lane: string;
  n: number;
  end(): void;
}

function scheduler(limits: { concurrency: number; perLane: number }) {
  const started: Task[] = [];
  const lanes = new LaneScheduler<{ lane: string; n: number }>(limits, (task) => new Promise<void>((resolve) => started.push({ ...task, end: resolve })));
  const push = (lane: string, count: number) => {
    for (let n = 0; n < count; n += 1) lanes.push(lane, { lane, n });
  };
  /** Ends the running tasks for which `which` is true and lets their settlement run. */
  const end = async (which: (task: Task) => boolean) => {
    for (const task of started.filter(which)) task.end();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { lanes, started, push, end };
}

describe('lane scheduler', () => {
  it('never runs more than the global cap, nor more than the lane cap in one lane', async () => {
    const { lanes, started, push, end } = scheduler({ concurrency: 5, perLane: 2 });
    push('slow', 10);
    push('a', 3);
    push('b', 3);
    expect(started.map((t) => t.lane)).toEqual(['slow', 'slow', 'a', 'a', 'b']);
    expect(lanes.running).toBe(5);
    expect(lanes.waiting).toBe(11);

    // The slow lane never ends; the others go on with the three slots it does not hold.
    await end((task) => task.lane !== 'slow');
    await end((task) => task.lane !== 'slow');
    await end((task) => task.lane !== 'slow');
    expect(started.filter((t) => t.lane === 'slow')).toHaveLength(2);
    expect(started.filter((t) => t.lane === 'a').map((t) => t.n)).toEqual([0, 1, 2]);
    expect(started.filter((t) => t.lane === 'b').map((t) => t.n)).toEqual([0, 1, 2]);
    expect(lanes.running).toBe(2);
    expect(lanes.waiting).toBe(8);
  });

  it('starts tasks of one lane in the order pushed, and lanes with waiting tasks in turn', async () => {
    const { started, push, end } = scheduler({ concurrency: 1, perLane: 1 });
    push('a', 3);
    push('b', 2);
    push('c', 1);
    for (let i = 0; i < 6; i += 1) await end(() => true);
    expect(started.map((t) => `${t.lane}${t.n}`)).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2']);
  });

  it('frees the slot of a task that fails', async () => {
    let calls = 0;
    const lanes = new LaneScheduler<number>({ concurrency: 1, perLane: 1 }, async () => {
      calls += 1;
      throw new Error('failed');
    });
    lanes.push('a', 1);
    lanes.push('a', 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    expect(lanes.running).toBe(0);
  });

  it('clear() drops the waiting tasks and lets the running ones finish', async () => {
    const { lanes, started, push, end } = scheduler({ concurrency: 2, perLane: 2 });
    push('a', 5);
    lanes.clear();
    expect(lanes.waiting).toBe(0);
    expect(lanes.running).toBe(2);
    await end(() => true);
    expect(started).toHaveLength(2);
    expect(lanes.running).toBe(0);
    push('a', 1);
    expect(started).toHaveLength(3);
  });
});
