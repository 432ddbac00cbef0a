import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Client } from 'pg';
import { databaseNameOf, PostgresServer } from './databases';

/**
 * "What bounds it": a probe started beside a measured window that reports where the machine's CPU
 * went in that window and, on PostgreSQL, what the service's server connections were doing.
 *
 * - CPU from /proc, in cores (CPU seconds per second of the window): the whole machine (busy =
 *   not idle and not iowait, out of `cpus`), each watched process (for a service, also its main
 *   thread: a main thread near 1.00 core means that process's event loop is its limit), and the
 *   PostgreSQL server's processes (the postmaster's children by kind: client backends, walwriter,
 *   checkpointer, …; backends that ended in the window are counted through the postmaster's
 *   cumulative children time).
 * - PostgreSQL's `pg_stat_activity`, sampled every 50 ms for the client backends of the service's
 *   database: the mean number of connections in each state. `active: running` is on CPU in the
 *   server; `active: Lock:advisory` waits for another transaction's advisory lock (the feed's
 *   append lock); `active: IO:WALSync` / `LWLock:WALWrite` wait for commits to reach the disk;
 *   `idle in transaction` waits, in the middle of a transaction, for the service to send its next
 *   statement (the service is the limit); `idle` is a pooled connection nobody uses.
 * - PostgreSQL's commits in the window (`pg_stat_database.xact_commit` of the database) and WAL
 *   flushes (`pg_stat_wal.wal_sync`, the whole server): deliveries per commit show the group commit.
 *
 * Sampling costs a little of the server (one small query per 50 ms) and of the bench process; the
 * baseline runs of a scenario are probed the same way.
 */
export interface WatchedProcess {
  label: string;
  pid: number;
  /** Also report the main thread's CPU (a Node process: the event loop). */
  mainThread?: boolean;
}

export interface ProcessCpu {
  label: string;
  cores: number;
  mainThreadCores?: number;
}

export interface BoundsReport {
  windowMs: number;
  /** `otherCores`: busy cores not used by the watched processes nor the server (other work on the machine). */
  machine: { cpus: number; busyCores: number; otherCores?: number };
  processes: ProcessCpu[];
  postgres?: {
    /** Server CPU, when it runs on this machine. */
    cores?: number;
    coresByKind?: Record<string, number>;
    /** Mean connections of the database in each state over the samples. */
    connections?: Record<string, number>;
    samples?: number;
    /** Transactions committed in the database, reads included (each pooled SELECT is one). */
    commitsPerSecond?: number;
    walSyncsPerSecond?: number;
  };
}

export interface BoundsProbe {
  stop(): Promise<BoundsReport>;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux (`getconf CLK_TCK`)
const SAMPLE_MS = 50;

/** utime + stime (+ cutime + cstime with `children`) in ticks, and the ppid, from /proc/<pid>/stat. */
function readStat(path: string): { ticks: number; childTicks: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

function machineTicks(): { total: number; idle: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const numbers = values.map(Number);
  return { total: numbers.reduce((a, b) => a + b, 0), idle: numbers[3] + (numbers[4] ?? 0) };
}

/** The kind of a server process, from its title (`postgres: walwriter`, `postgres: user db 127.0.0.1(5432) idle`). */
function postgresKind(pid: number): string {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .replace(/\0/g, ' ')
      .trim()
      .replace(/^postgres:\s*/, '');
    const background = [
      'checkpointer',
      'background writer',
      'walwriter',
      'autovacuum launcher',
      'autovacuum worker',
      'logical replication launcher',
      'stats collector',
      'archiver',
      'walsender',
    ];
    return background.find((kind) => title.startsWith(kind)) ?? 'client backends';
  } catch {
    return 'client backends';
  }
}

interface ServerCpu {
  /** Postmaster's own and its reaped children's ticks. */
  postmaster: number;
  children: Map<number, number>;
}

function serverCpu(postmasterPid: number): ServerCpu | undefined {
  const postmaster = readStat(`/proc/${postmasterPid}/stat`);
  if (!postmaster) return undefined;
  const children = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat?.ppid === postmasterPid) children.set(Number(entry), stat.ticks);
  }
  return { postmaster: postmaster.ticks + postmaster.childTicks, children };
}

function processTicks(process: WatchedProcess): { all?: number; main?: number } {
  return {
    all: readStat(`/proc/${process.pid}/stat`)?.ticks,
    main: process.mainThread ? readStat(`/proc/${process.pid}/task/${process.pid}/stat`)?.ticks : undefined,
  };
}

async function postgresCounters(client: Client, database: string): Promise<{ commits: number; walSyncs?: number }> {
  const [{ commits }] = (
    await client.query<{ commits: string }>('SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1', [database])
  ).rows;
  // pg_stat_wal is PostgreSQL 14 and later.
  const wal = await client.query<{ syncs: string }>('SELECT wal_sync AS syncs FROM pg_stat_wal').catch(() => undefined);
  return { commits: Number(commits), walSyncs: wal ? Number(wal.rows[0].syncs) : undefined };
}

/**
 * Starts watching `processes` (services, load generators) and, with `postgres`, the server and the
 * connections of `postgres.databaseUrl`'s database. `stop()` returns what happened in between.
 */
export async function startBoundsProbe(
  processes: WatchedProcess[],
  postgres?: { server: PostgresServer; databaseUrl: string },
): Promise<BoundsProbe> {
  const startedAt = performance.now();
  const machineStart = machineTicks();
  const processStart = processes.map(processTicks);
  const serverStart = postgres?.server.postmasterPid ? serverCpu(postgres.server.postmasterPid) : undefined;

  let client: Client | undefined;
  let counterStart: { commits: number; walSyncs?: number } | undefined;
  const states = new Map<string, number>();
  let samples = 0;
  let timer: NodeJS.Timeout | undefined;
  let sampling: Promise<void> = Promise.resolve();
  const database = postgres ? databaseNameOf(postgres.databaseUrl) : undefined;
  if (postgres) {
    client = new Client({ connectionString: postgres.server.adminUrl });
    await client.connect();
    // Its own counters and samples stay out: it is on the `postgres` database, not the service's.
    counterStart = await postgresCounters(client, database!);
    const sample = async () => {
      const { rows } = await client!.query<{ state: string | null; wait: string | null; n: string }>(
        `SELECT state, wait_event_type || ':' || wait_event AS wait, count(*) AS n FROM pg_stat_activity
         WHERE datname = $1 AND backend_type = 'client backend' GROUP BY 1, 2`,
        [database],
      );
      samples += 1;
      for (const row of rows) {
        const state = row.state ?? 'starting';
        const key =
          state === 'active'
            ? `active: ${row.wait ?? 'running'}`
            : state === 'idle'
              ? 'idle'
              : `${state}${row.wait && row.wait !== 'Client:ClientRead' ? ` (${row.wait})` : ''}`;
        states.set(key, (states.get(key) ?? 0) + Number(row.n));
      }
    };
    timer = setInterval(() => {
      sampling = sampling.then(sample).catch(() => undefined);
    }, SAMPLE_MS);
  }

  return {
    async stop(): Promise<BoundsReport> {
      clearInterval(timer);
      await sampling;
      const seconds = (performance.now() - startedAt) / 1000;
      const cores = (ticks: number) => Number((ticks / TICKS_PER_SECOND / seconds).toFixed(2));
      const machineEnd = machineTicks();
      const total = machineEnd.total - machineStart.total;
      const busy = total - (machineEnd.idle - machineStart.idle);
      const report: BoundsReport = {
        windowMs: Math.round(seconds * 1000),
        machine: { cpus: cpus().length, busyCores: Number(((busy / Math.max(1, total)) * cpus().length).toFixed(2)) },
        processes: processes.map((process, index) => {
          const end = processTicks(process);
          const start = processStart[index];
          return {
            label: process.label,
            cores: end.all !== undefined && start.all !== undefined ? cores(end.all - start.all) : NaN,
            ...(process.mainThread && end.main !== undefined && start.main !== undefined
              ? { mainThreadCores: cores(end.main - start.main) }
              : {}),
          };
        }),
      };
      if (postgres) {
        report.postgres = {};
        const serverEnd = postgres.server.postmasterPid ? serverCpu(postgres.server.postmasterPid) : undefined;
        if (serverStart && serverEnd) {
          const byKind: Record<string, number> = {};
          let alive = 0;
          let aliveAtStart = 0;
          for (const [pid, ticks] of serverEnd.children) {
            const delta = ticks - (serverStart.children.get(pid) ?? 0);
            const kind = postgresKind(pid);
            byKind[kind] = (byKind[kind] ?? 0) + delta;
            alive += ticks;
            aliveAtStart += serverStart.children.get(pid) ?? 0;
          }
          const startTotal = serverStart.postmaster + [...serverStart.children.values()].reduce((a, b) => a + b, 0);
          const endTotal = serverEnd.postmaster + alive;
          // Processes that ended in the window: their time reached the postmaster's children time.
          const ended = endTotal - startTotal - (alive - aliveAtStart);
          if (ended > 0) byKind['ended processes and postmaster'] = ended;
          report.postgres.cores = cores(endTotal - startTotal);
          report.postgres.coresByKind = Object.fromEntries(Object.entries(byKind).map(([kind, ticks]) => [kind, cores(ticks)]));
        }
        if (client) {
          const counterEnd = await postgresCounters(client, database!).catch(() => undefined);
          await client.end().catch(() => undefined);
          report.postgres.samples = samples;
          report.postgres.connections = Object.fromEntries(
            [...states].sort((a, b) => b[1] - a[1]).map(([state, count]) => [state, Number((count / Math.max(1, samples)).toFixed(2))]),
          );
          if (counterStart && counterEnd) {
            report.postgres.commitsPerSecond = Math.round((counterEnd.commits - counterStart.commits) / seconds);
            if (counterStart.walSyncs !== undefined && counterEnd.walSyncs !== undefined) {
              report.postgres.walSyncsPerSecond = Math.round((counterEnd.walSyncs - counterStart.walSyncs) / seconds);
            }
          }
        }
      }
      const ours = report.processes.reduce((sum, p) => sum + (Number.isNaN(p.cores) ? 0 : p.cores), 0) + (report.postgres?.cores ?? 0);
      if (!postgres || report.postgres?.cores !== undefined)
        report.machine.otherCores = Number(Math.max(0, report.machine.busyCores - ours).toFixed(2));
      return report;
    },
  };
}

/** The report in one line for the log: `machine 1.93/2 cores busy; api 0.81 (main 0.74), …; postgres 0.52 (…); connections: …`. */
export function describeBounds(report: BoundsReport): string {
  const other = report.machine.otherCores !== undefined ? ` (${report.machine.otherCores.toFixed(2)} by other work)` : '';
  const parts = [`machine ${report.machine.busyCores.toFixed(2)}/${report.machine.cpus} cores busy${other}`];
  parts.push(
    report.processes
      .map(
        (p) =>
          `${p.label} ${Number.isNaN(p.cores) ? '?' : p.cores.toFixed(2)}${p.mainThreadCores !== undefined ? ` (main thread ${p.mainThreadCores.toFixed(2)})` : ''}`,
      )
      .join(', '),
  );
  const pg = report.postgres;
  if (pg) {
    if (pg.cores !== undefined) {
      const kinds = Object.entries(pg.coresByKind ?? {})
        .filter(([, cores]) => cores >= 0.01)
        .map(([kind, cores]) => `${kind} ${cores.toFixed(2)}`)
        .join(', ');
      parts.push(`postgres ${pg.cores.toFixed(2)}${kinds ? ` (${kinds})` : ''}`);
    }
    if (pg.connections) {
      const busy = Object.entries(pg.connections).filter(([state, n]) => state !== 'idle' && n >= 0.01);
      parts.push(`connections (mean of ${pg.samples}): ${busy.map(([state, n]) => `${state} ${n.toFixed(2)}`).join(', ') || 'all idle'}`);
    }
    if (pg.commitsPerSecond !== undefined)
      parts.push(
        `${pg.commitsPerSecond} transactions/s (reads included)${pg.walSyncsPerSecond !== undefined ? `, ${pg.walSyncsPerSecond} WAL syncs/s` : ''}`,
      );
  }
  const signs = boundsVerdict(report);
  parts.push(`bound: ${signs.length ? signs.join(' / ') : 'no sign above the thresholds'}`);
  return parts.join('; ');
}

/**
 * What the report points at, strongest signs first (rules of thumb, each with its number): the
 * machine's CPUs all busy; a service's main thread near a full core (its event loop); connections
 * waiting on a lock (`Lock:advisory`: the feed's append lock, which orders event-making commits
 * across processes); connections waiting on WAL flushes (commit durability); write transactions
 * left open while the server waits for the service's next statement.
 */
export function boundsVerdict(report: BoundsReport): string[] {
  const signs: string[] = [];
  const { machine } = report;
  if (machine.busyCores >= 0.9 * machine.cpus) {
    signs.push(
      `CPU: ${machine.busyCores.toFixed(2)} of ${machine.cpus} cores busy${machine.otherCores ? ` (${machine.otherCores.toFixed(2)} by other work)` : ''}`,
    );
  }
  for (const p of report.processes) {
    if ((p.mainThreadCores ?? 0) >= 0.85) signs.push(`${p.label}'s main thread: ${p.mainThreadCores!.toFixed(2)} core (its event loop)`);
  }
  const connections = Object.entries(report.postgres?.connections ?? {});
  const sum = (match: (state: string) => boolean) => connections.filter(([state]) => match(state)).reduce((total, [, n]) => total + n, 0);
  const locks = sum((state) => state.startsWith('active: Lock:'));
  if (locks >= 0.3)
    signs.push(
      `lock waits: ${locks.toFixed(2)} connections on average (${connections
        .filter(([s]) => s.startsWith('active: Lock:'))
        .map(([s]) => s.slice(8))
        .join(', ')})`,
    );
  const wal = sum((state) => /^active: (IO:WAL|LWLock:WAL)/.test(state));
  if (wal >= 0.3) signs.push(`WAL flushes: ${wal.toFixed(2)} connections on average`);
  const open = sum((state) => state.startsWith('idle in transaction'));
  if (open >= 0.5) signs.push(`open transactions waiting for the service: ${open.toFixed(2)} on average (its round trips)`);
  return signs;
}

/** Awaits `work`, then stops `probe`; the probe is stopped (its connection closed) when the work fails too. */
export async function probed<T>(probe: BoundsProbe, work: Promise<T>): Promise<[T, BoundsReport]> {
  let result: T;
  try {
    result = await work;
  } catch (error) {
    await probe.stop().catch(() => undefined);
    throw error;
  }
  return [result, await probe.stop()];
}
