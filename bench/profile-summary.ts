import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a service's main thread spent its time, from the CPU profiles that
 * `BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` makes (one file per service process,
 * written when it stops): self time grouped by where the code lives (a package under
 * node_modules, node's own internals, the service's `src/` folders), plus V8's `(idle)` (the event
 * loop waiting: for the database, the network), `(garbage collector)` and `(program)`.
 *
 *   npm run build && node dist/bench/profile-summary.js DIR [TOP]
 *
 * Prints one table per profile (newest last), shares of the profile's wall time, then the TOP
 * (default 15) functions by self time.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/dist\/src\/([^/]+)/.exec(url);
  if (src) return `src/${src[1].replace(/\.js$/, '')}`;
  return url;
}

function summarize(path: string, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const total = profile.endTime - profile.startTime;
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const name =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const share = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${path}: ${(total / 1e6).toFixed(1)} s profiled`];
  for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1]).filter(([, us]) => us / total >= 0.005))
    lines.push(`  ${share(us)}  ${group}`);
  lines.push(`  top ${top} functions by self time:`);
  for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${share(us)}  ${name}`);
  return lines.join('\n');
}

function main(): void {
  const [dir, topText] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node dist/bench/profile-summary.js DIR [TOP]  (DIR: the --cpu-prof-dir of BENCH_SERVICE_NODE_ARGS)\n');
    process.exit(2);
  }
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  for (const file of files) process.stdout.write(`${summarize(file, Number(topText ?? 15))}\n\n`);
}

main();
