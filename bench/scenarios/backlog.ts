import { seedBacklog } from '../lib/backlog-seed';
import { driveBuilds, startDeliveryRig, startReceiver } from '../lib/delivery-load';
import { FigureSpec, ratioAtLeast, valueAtMost } from '../lib/figures';
import { delay } from '../lib/pacer';
import { MIB, steadyRss } from '../lib/rss';
import { createBenchAccount } from '../lib/service';
import { arrivalsBetween, countedWindowMs } from '../lib/stats';
import { Scenario, ScenarioContext } from './scenario';

/**
 * A customer's endpoint was down for a day: a million deliveries wait in the database. The service
 * restarts on that database with the endpoint still silent, then the endpoint comes back.
 * - RSS with the backlog pending, against the same build's RSS idle on an empty database.
 * - Restart to healthy: spawning the process to its first 200 from /healthz.
 * - Drain rate once the endpoint answers, against the live delivery throughput of the idle service.
 */
const SETTINGS = {
  full: { events: 50_000, liveMs: 8_000, warmupMs: 2_000, windowMs: 15_000 },
  quick: { events: 5_000, liveMs: 3_000, warmupMs: 1_000, windowMs: 4_000 },
};
const WEBHOOKS = 20;
const RSS_HEADROOM = 100 * MIB;

function figuresOf(quick: boolean): FigureSpec[] {
  const pending = (quick ? SETTINGS.quick : SETTINGS.full).events * WEBHOOKS;
  return [
    {
      id: 'backlog.rss',
      label: `server RSS with ${pending.toLocaleString('en-US')} deliveries pending`,
      unit: 'bytes',
      baseline: 'same build idle, empty database',
      target: {
        text: 'within 100 MiB of idle',
        met: ({ value, baseline }) => (value === undefined || baseline === undefined ? undefined : value <= baseline + RSS_HEADROOM),
      },
    },
    {
      id: 'backlog.healthy',
      label: `restart to healthy with ${pending.toLocaleString('en-US')} pending`,
      unit: 'ms',
      target: valueAtMost(3_000, '< 3 s'),
    },
    {
      id: 'backlog.drain',
      label: 'drain rate once the endpoint answers',
      unit: 'per-second',
      baseline: 'live delivery throughput, same build',
      target: ratioAtLeast(0.5),
    },
  ];
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const settings = quick ? SETTINGS.quick : SETTINGS.full;
  // Baselines: the idle RSS and the live throughput of a service on an empty database.
  const rig = await startDeliveryRig(scope);
  await delay(1_000);
  const idle = await steadyRss(rig.service.pid);
  const before = await rig.receiver.snapshot();
  const startedAt = Date.now();
  await driveBuilds(rig, { durationMs: settings.liveMs });
  const after = await rig.receiver.snapshot();
  const liveRate = ((after.total - before.total) * 1000) / (Date.now() - startedAt);
  log(`idle ${((idle ?? 0) / MIB).toFixed(1)} MiB; live throughput ${Math.round(liveRate)}/s`);
  await rig.service.stop();

  // A database of the run's engine that no service has open yet: the account, then the backlog.
  const { database } = await scope.database();
  const account = await createBenchAccount(database);
  const receiver = await startReceiver(scope);
  await receiver.hold();
  const seededAt = Date.now();
  const pending = await seedBacklog(database.location, { events: settings.events, urls: receiver.targets, accountId: account.accountId });
  log(`seeded ${pending} pending deliveries in ${((Date.now() - seededAt) / 1000).toFixed(1)} s`);

  const service = await scope.service({ existing: { database, apiKey: account.apiKey } });
  figures.value('backlog.healthy', service.healthyAfterMs);
  // The endpoint stays silent: the worker holds its attempts open, the backlog waits in the table.
  await delay(3_000);
  const rss = await steadyRss(service.pid);
  figures.baseline('backlog.rss', idle);
  figures.value('backlog.rss', rss, { pending });
  log(`healthy after ${service.healthyAfterMs} ms; RSS with the backlog ${((rss ?? 0) / MIB).toFixed(1)} MiB`);

  await receiver.release();
  const releasedAt = Date.now();
  await delay(settings.warmupMs + settings.windowMs + 200);
  const from = releasedAt + settings.warmupMs;
  const to = from + settings.windowMs;
  const drain = (arrivalsBetween([(await receiver.snapshot()).arrivals], from, to) * 1000) / countedWindowMs(from, to);
  figures.baseline('backlog.drain', liveRate);
  figures.value('backlog.drain', drain);
  log(`drain ${Math.round(drain)}/s`);
  await service.stop();
}

export const backlogScenario: Scenario = {
  id: 'backlog',
  description: 'a million pending deliveries: memory, restart to healthy, drain rate',
  budgetMs: (quick) => (quick ? 120_000 : 300_000),
  figures: figuresOf,
  run,
};
