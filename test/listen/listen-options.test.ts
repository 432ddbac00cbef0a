import { EventType } from '../../src/events/event-type';
import { DEFAULT_SERVICE_URL, ListenOptions, parseListenOptions, UsageError, USAGE } from '../../src/listen/listen-options';

const KEY = { DESKFORGE_API_KEY: 'dfk_0123456789abcdefghijklmnopqrstuvwxyz' };
const parse = (args: string[], env: Record<string, string | undefined> = KEY) => parseListenOptions(args, env) as ListenOptions;
const refusal = (args: string[], env: Record<string, string | undefined> = KEY): string => {
  try {
    parseListenOptions(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
};

describe('listen options', () => {
  it('defaults: the local service over WebSocket, every type, a generated whsec_ secret, human output', () => {
    const options = parse(['--forward-to', 'http://localhost:3000/webhooks/deskforge']);
    expect(options.forwardTo.href).toBe('http://localhost:3000/webhooks/deskforge');
    expect(DEFAULT_SERVICE_URL).toBe('http://localhost:4000/graphql');
    expect(options.serviceUrl.href).toBe('ws://localhost:4000/graphql');
    expect(options.events).toBeNull();
    expect(options.json).toBe(false);
    expect(options.apiKey).toBe(KEY.DESKFORGE_API_KEY);
    // whsec_ + base64 of 32 random bytes, new each run.
    expect(options.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(options.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(parse(['--forward-to', 'http://localhost:3000/']).secret).not.toBe(options.secret);
  });

  it('takes --url (http, https or ws), --events as dotted names (folded), --secret and --json', () => {
    const options = parse([
      '--forward-to=https://127.0.0.1:8443/hook?x=1',
      '--url',
      'https://deskforge.example.com/graphql',
      '--events',
      'build.succeeded, build.failed,build.succeeded',
      '--secret',
      'your_webhook_secret',
      '--json',
    ]);
    expect(options.forwardTo.href).toBe('https://127.0.0.1:8443/hook?x=1');
    expect(options.serviceUrl.href).toBe('wss://deskforge.example.com/graphql');
    expect(options.events).toEqual([EventType.BUILD_SUCCEEDED, EventType.BUILD_FAILED]);
    expect(options.secret).toBe('your_webhook_secret');
    expect(options.json).toBe(true);
    expect(parse(['--forward-to', 'http://localhost:3000/', '--url', 'ws://127.0.0.1:4999/graphql']).serviceUrl.href).toBe(
      'ws://127.0.0.1:4999/graphql',
    );
  });

  it('refuses a missing or malformed --forward-to, an unknown flag or event name, a bad --url or --secret, and no key', () => {
    expect(refusal([])).toBe('--forward-to is required');
    expect(refusal(['--forward-to'])).toMatch(/--forward-to/);
    expect(refusal(['--forward-to', 'localhost:3000/hook'])).toMatch(/^--forward-to: .* must start with http:\/\/ or https:\/\//);
    expect(refusal(['--forward-to', '/webhooks/deskforge'])).toBe('--forward-to: "/webhooks/deskforge" is not an absolute URL');
    expect(refusal(['--forward-to', 'ftp://localhost/hook'])).toMatch(/^--forward-to: /);
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--forward'])).toMatch(/Unknown option '--forward'/);
    expect(refusal(['--forward-to', 'http://localhost:3000/', 'extra'])).toMatch(/extra/);
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--events', 'build.succeeded,BUILD_FAILED'])).toMatch(
      /^--events: unknown event "BUILD_FAILED"; the names are build\.queued, /,
    );
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--events', ''])).toMatch(/^--events: unknown event ""/);
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--url', 'localhost:4000'])).toMatch(/^--url: /);
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--secret', 'short'])).toBe(
      '--secret: "secret" must be 16 to 256 characters',
    );
    expect(refusal(['--forward-to', 'http://localhost:3000/', '--secret', 'whsec_!!!!!!!!!!!!!!!!!!!!!!!!'])).toMatch(
      /^--secret: "secret" starting with whsec_ must be base64/,
    );
    expect(refusal(['--forward-to', 'http://localhost:3000/'], {})).toMatch(/^DESKFORGE_API_KEY is not set/);
    expect(refusal(['--forward-to', 'http://localhost:3000/'], { DESKFORGE_API_KEY: '  ' })).toMatch(/^DESKFORGE_API_KEY is not set/);
  });

  it('sends the API key in clear (http://, ws://) only to this machine: localhost, 127.0.0.0/8, ::1', () => {
    const service = (url: string) => ['--forward-to', 'http://localhost:3000/', '--url', url];
    for (const url of [
      'http://localhost:4000/graphql',
      'ws://LOCALHOST:4000/graphql',
      'http://127.0.0.1:4000/graphql',
      'ws://127.8.9.10/graphql',
      'http://[::1]:4000/graphql',
      'http://[::ffff:127.0.0.1]/graphql',
    ]) {
      expect(parse(service(url)).serviceUrl.protocol).toBe('ws:');
    }
    for (const url of [
      'http://deskforge.example.com/graphql',
      'ws://deskforge.example.com/graphql',
      'http://10.0.0.5:4000/graphql',
      'http://192.168.1.20/graphql',
      'http://[::2]/graphql',
      'http://localhost.evil.example/graphql',
      'http://128.0.0.1/graphql',
    ]) {
      expect(refusal(service(url))).toMatch(/^--url: .* would send the API key unencrypted .* use https:\/\/ \(or wss:\/\/\)/);
    }
    expect(parse(service('https://deskforge.example.com/graphql')).serviceUrl.protocol).toBe('wss:');
    expect(parse(service('wss://10.0.0.5/graphql')).serviceUrl.protocol).toBe('wss:');
  });

  it('never suggests signing with a production secret', () => {
    expect(USAGE).toMatch(/--secret <secret> .*development/s);
    expect(USAGE).not.toMatch(/production|WEBHOOK_SECRET/i);
  });

  it('--help wins over everything else', () => {
    expect(parseListenOptions(['--help'], {})).toBe('help');
    expect(parseListenOptions(['--forward-to', 'nonsense', '--help'], {})).toBe('help');
  });
});
