import { systemClock } from '../clock';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../config';
import { EventStream, StreamFatal } from './event-stream';
import { Forwarder } from './forwarder';
import { ListenOptions, parseListenOptions, USAGE, UsageError } from './listen-options';
import { forwardOutput, readyOutput } from './listen-output';

/**
 * `DESKFORGE_API_KEY=dfk_… npm run --silent listen -- --forward-to http://localhost:3000/webhooks/deskforge`
 * (API.md §9). Exit codes: 0 after Ctrl-C, 1 when the service refuses the key or the subscription,
 * 2 for a wrong command line. The ready message and one line per forward go to stdout, connection
 * news to stderr.
 */
function options(): ListenOptions {
  try {
    const parsed = parseListenOptions(process.argv.slice(2), process.env);
    if (parsed !== 'help') return parsed;
    process.stdout.write(USAGE);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`listen: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const listen = options();
  const forwarder = new Forwarder({
    url: listen.forwardTo,
    secret: listen.secret,
    timeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS,
    clock: systemClock,
  });
  const stream = new EventStream({
    url: listen.serviceUrl,
    apiKey: listen.apiKey,
    types: listen.events,
    handle: async (event) => {
      process.stdout.write(forwardOutput(await forwarder.forward(event), listen.json));
    },
    onReady: () => process.stdout.write(readyOutput(listen)),
    onStatus: (message) => process.stderr.write(`listen: ${message}\n`),
  });
  const stop = () => stream.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await stream.run();
  } finally {
    forwarder.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`listen: ${error instanceof StreamFatal ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
