import PQueue from 'p-queue';

export interface LaneLimits {
  /** Tasks running at once, all lanes together. */
  concurrency: number;
  /** Tasks running at once in one lane. */
  perLane: number;
}

interface Lane<T> {
  key: string;
  /** Not yet handed to the global queue. */
  waiting: T[];
  /** Handed to the global queue: queued there or running. At most `perLane`. */
  admitted: number;
}

/**
 * Runs tasks under two caps: `concurrency` in all (one p-queue) and `perLane` per lane (for the
 * dispatcher, a lane is a webhook). A lane hands at most `perLane` tasks at a time to the global
 * queue and keeps the rest itself, so one slow lane holds at most its share of global slots while
 * the others go on. Within a lane tasks start in the order they were pushed; across lanes, in the
 * order they were admitted.
 */
export class LaneScheduler<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly global: PQueue;
  /** Tasks running per lane (the rest of a lane's `admitted` are queued in `global`). */
  private readonly runningByLane = new Map<Lane<T>, number>();
  private heldByLanes = 0;
  private runningCount = 0;

  /** @param run runs one task; its slots are free again when the promise settles. */
  constructor(
    private readonly limits: LaneLimits,
    private readonly run: (task: T) => Promise<void>,
  ) {
    this.global = new PQueue({ concurrency: limits.concurrency });
  }

  /** Tasks pushed and not started. */
  get waiting(): number {
    return this.heldByLanes + this.global.size;
  }

  /** Tasks started and not settled. */
  get running(): number {
    return this.runningCount;
  }

  push(laneKey: string, task: T): void {
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = { key: laneKey, waiting: [], admitted: 0 };
      this.lanes.set(laneKey, lane);
    }
    lane.waiting.push(task);
    this.heldByLanes += 1;
    this.admit(lane);
  }

  /** Drops every task not started yet (running ones go on). */
  clear(): void {
    this.global.clear();
    this.heldByLanes = 0;
    for (const lane of this.lanes.values()) {
      lane.waiting = [];
      lane.admitted = this.runningByLane.get(lane) ?? 0;
      if (lane.admitted === 0) this.lanes.delete(lane.key);
    }
  }

  private admit(lane: Lane<T>): void {
    while (lane.admitted < this.limits.perLane && lane.waiting.length > 0) {
      const task = lane.waiting.shift()!;
      this.heldByLanes -= 1;
      lane.admitted += 1;
      void this.global.add(async () => {
        this.runningCount += 1;
        this.runningByLane.set(lane, (this.runningByLane.get(lane) ?? 0) + 1);
        try {
          await this.run(task);
        } catch {
          // The task reports its own failures; its slots are freed all the same.
        } finally {
          this.runningCount -= 1;
          const running = this.runningByLane.get(lane)! - 1;
          if (running === 0) this.runningByLane.delete(lane);
          else this.runningByLane.set(lane, running);
          lane.admitted -= 1;
          if (lane.admitted === 0 && lane.waiting.length === 0) this.lanes.delete(lane.key);
          else this.admit(lane);
        }
      });
    }
  }
}
