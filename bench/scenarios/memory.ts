import { driveBuilds, startDeliveryRig, waitForArrivals, WEBHOOKS } from '../lib/delivery-load';
import { FigureSpec, ratioAtMost } from '../lib/figures';
import { delay } from '../lib/pacer';
import { MIB, readRssBytes, steadyRss } from '../lib/rss';
import { Scenario, ScenarioContext } from './scenario';

/**
 * Figure 5, idle and after many deliveries: server RSS once set up and idle, then RSS sampled at
 * every tenth of 100,000 deliveries made as fast as sustained. "Flat" compares the last sample with
 * the one at 20%, after warm-up, in the same run. (RSS with 5,000 subscribers is measured by the
 * fan-out scenario, where they are.)
 */
const CHECKPOINTS = 10;
/** The sample at this checkpoint is the flatness baseline (caches and JIT warm by then). */
const BASELINE_CHECKPOINT = 2;
const FLAT_RATIO = 1.25;

const SETTINGS = {
  full: { deliveries: 100_000, limitMs: 240_000 },
  quick: { deliveries: 10_000, limitMs: 60_000 },
};

function figuresOf(quick: boolean): FigureSpec[] {
  const { deliveries } = quick ? SETTINGS.quick : SETTINGS.full;
  return [
    { id: 'memory.idle', label: 'server RSS idle', unit: 'bytes' },
    {
      id: `memory.after${deliveries}`,
      label: `server RSS after ${deliveries.toLocaleString('en-US')} deliveries`,
      unit: 'bytes',
      baseline: `same server after ${((deliveries * BASELINE_CHECKPOINT) / CHECKPOINTS).toLocaleString('en-US')}`,
      target: ratioAtMost(FLAT_RATIO),
    },
  ];
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const { deliveries, limitMs } = quick ? SETTINGS.quick : SETTINGS.full;
  const id = `memory.after${deliveries}`;
  const rig = await startDeliveryRig(scope);
  const { receiver, service } = rig;
  await delay(1_000);
  const idle = await steadyRss(service.pid);
  figures.value('memory.idle', idle);
  log(`idle: ${((idle ?? 0) / MIB).toFixed(1)} MiB`);

  const samples: Array<{ deliveries: number; rssMiB: number }> = [];
  const base = await receiver.count();
  const sample = (delivered: number) => {
    while (samples.length < CHECKPOINTS && delivered >= ((samples.length + 1) * deliveries) / CHECKPOINTS) {
      samples.push({ deliveries: delivered, rssMiB: (readRssBytes(service.pid) ?? NaN) / MIB });
    }
    return samples.length === CHECKPOINTS;
  };
  const report = await driveBuilds(rig, { durationMs: limitMs, maxEvents: Math.ceil(deliveries / WEBHOOKS) }, sample);
  // The mutation client may finish its events while the last deliveries (up to its backlog bound)
  // are still on their way: the checkpoints they pass are sampled as they arrive.
  const arrived = await waitForArrivals(receiver, base, report.events * WEBHOOKS, undefined, undefined, (count) => void sample(count));
  if (samples.length < CHECKPOINTS) {
    throw new Error(`only ${arrived} of ${deliveries} deliveries arrived within ${limitMs / 1000} s`);
  }
  const notes = {
    checkpoints: samples.map((s) => ({ deliveries: s.deliveries, rssMiB: Number(s.rssMiB.toFixed(1)) })),
    events: report.events,
  };
  figures.baseline(id, samples[BASELINE_CHECKPOINT - 1].rssMiB * MIB);
  figures.value(id, samples[CHECKPOINTS - 1].rssMiB * MIB, notes);
  log(
    `after ${deliveries} deliveries: ${samples[CHECKPOINTS - 1].rssMiB.toFixed(1)} MiB (at ${samples[BASELINE_CHECKPOINT - 1].deliveries}: ${samples[BASELINE_CHECKPOINT - 1].rssMiB.toFixed(1)} MiB)`,
  );
}

export const memoryScenario: Scenario = {
  id: 'memory',
  description: 'server RSS idle and across 100,000 deliveries',
  budgetMs: (quick) => (quick ? 120_000 : 330_000),
  figures: figuresOf,
  run,
};
