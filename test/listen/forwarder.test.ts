import { deliveryHeaders } from '../../src/delivery/attempt-plan';
import { EventType } from '../../src/events/event-type';
import { reconnectDelayMs } from '../../src/listen/event-stream';
import { forwardRequest, ListenedEvent } from '../../src/listen/forwarder';
import { forwardOutput, readyOutput } from '../../src/listen/listen-output';
import { deskforgeSignatureValid, standardVerifier } from '../helpers/receiver';

const body =
  '{"id":"evt_1","type":"build.failed","createdAt":"2024-01-20T10:15:00.000Z","data":{"build":{"id":"build_1","projectId":"proj_1","version":"1.0.0","platform":"mac","arch":"arm64","status":"failed","artifactUrl":null,"duration":3,"error":"boom"},"project":{"id":"proj_1","name":"My Desktop App"}}}';
const event: ListenedEvent = { id: 'evt_1', type: EventType.BUILD_FAILED, body };
const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const url = new URL('http://localhost:3000/webhooks/deskforge');

describe('the request of one forward', () => {
  it("is a delivery's request: the body as given, the worker's headers, a fresh dlv_ id each time", () => {
    const now = new Date();
    const request = forwardRequest(url, event, secret, now, 'dlv_fixed');
    expect(request.url).toBe(url);
    expect(request.body).toBe(body);
    expect(request.headers).toEqual(
      deliveryHeaders({
        deliveryId: 'dlv_fixed',
        eventId: 'evt_1',
        type: EventType.BUILD_FAILED,
        payload: body,
        secret,
        previousSecret: null,
        now,
      }),
    );
    expect(request.headers['x-deskforge-event']).toBe('build.failed');
    expect(request.headers['webhook-id']).toBe('evt_1');
    expect(deskforgeSignatureValid(JSON.parse(body), request.headers['x-deskforge-signature'], secret)).toBe(true);
    expect(standardVerifier(secret).verify(body, request.headers)).toEqual(JSON.parse(body));

    const ids = [forwardRequest(url, event, secret, now), forwardRequest(url, event, secret, now)].map(
      (one) => one.headers['x-deskforge-delivery'],
    );
    expect(ids[0]).toMatch(/^dlv_[0-9A-Za-z]{24}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });
});

describe('what listen prints', () => {
  const startedAt = new Date('2024-01-20T10:15:00.123Z');
  const forwardTo = new URL('http://localhost:3000/webhooks/deskforge');

  it('the ready message carries the secret', () => {
    expect(readyOutput({ forwardTo, events: null, secret, json: false })).toBe(
      `Ready! Forwarding every event to http://localhost:3000/webhooks/deskforge (Ctrl-C to quit)\nSigning secret: ${secret}\n`,
    );
    expect(readyOutput({ forwardTo, events: [EventType.BUILD_SUCCEEDED, EventType.BUILD_FAILED], secret, json: false })).toMatch(
      /^Ready! Forwarding build\.succeeded, build\.failed events to /,
    );
    expect(readyOutput({ forwardTo, events: null, secret, json: true })).toBe(`{"ready":true,"secret":"${secret}"}\n`);
  });

  it('one line per forward: time, type, event id, status or error, duration', () => {
    expect(forwardOutput({ event, startedAt, durationMs: 12, status: 200, error: null }, false)).toBe(
      '2024-01-20T10:15:00.123Z  build.failed  evt_1  -> 200  12 ms\n',
    );
    expect(forwardOutput({ event, startedAt, durationMs: 1, status: null, error: 'connect ECONNREFUSED 127.0.0.1:3000' }, false)).toBe(
      '2024-01-20T10:15:00.123Z  build.failed  evt_1  -> error: connect ECONNREFUSED 127.0.0.1:3000  1 ms\n',
    );
    expect(forwardOutput({ event, startedAt, durationMs: 4, status: 302, error: 'redirect to /elsewhere not followed' }, false)).toBe(
      '2024-01-20T10:15:00.123Z  build.failed  evt_1  -> 302 (redirect to /elsewhere not followed)  4 ms\n',
    );
    expect(forwardOutput({ event, startedAt, durationMs: 12, status: 500, error: null }, true)).toBe(
      '{"eventId":"evt_1","type":"build.failed","status":500,"durationMs":12}\n',
    );
    expect(JSON.parse(forwardOutput({ event, startedAt, durationMs: 10000, status: null, error: 'timeout after 10000 ms' }, true))).toEqual(
      {
        eventId: 'evt_1',
        type: 'build.failed',
        status: null,
        durationMs: 10000,
        error: 'timeout after 10000 ms',
      },
    );
  });
});

describe('reconnecting', () => {
  it('waits 0.5 s doubling up to 15 s, ±20%', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((failures) => reconnectDelayMs(failures, middle))).toEqual([
      500, 1000, 2000, 4000, 8000, 15000, 15000, 15000,
    ]);
    expect(reconnectDelayMs(0, () => 0)).toBe(400);
    expect(reconnectDelayMs(10, () => 1)).toBe(18000);
  });
});
