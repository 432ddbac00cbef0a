import { ExecutionResult, GraphQLError } from 'graphql';
import { NextPayloads } from '../../src/http/next-payloads';

/** graphql-ws's own framing of a `next` message (what `stringifyMessage` does after validating it). */
const graphqlWsFrame = (id: string, payload: unknown) => JSON.stringify({ id, type: 'next', payload });

describe('NextPayloads', () => {
  const result: ExecutionResult = { data: { events: { id: 'evt_1', name: 'with "quotes" and \\ and \u2028' } } };
  const failed: ExecutionResult = { errors: [new GraphQLError('boom', { path: ['events'] })], data: { events: null } };
  const toPayload = (r: ExecutionResult) => (r.errors ? { ...r, errors: r.errors.map((e) => ({ message: `formatted ${e.message}` })) } : r);

  it('puts on the wire exactly what graphql-ws would, for any id, serializing each result once', () => {
    const serialize = jest.fn(toPayload);
    const payloads = new NextPayloads(serialize);
    for (const id of ['1', 'a"b\\c', '9f1c2e6a-0000-4000-8000-000000000000', '"payload":"x"}']) {
      for (const r of [result, failed]) {
        expect(payloads.frame(graphqlWsFrame(id, payloads.placeholder(r)))).toBe(graphqlWsFrame(id, toPayload(r)));
      }
    }
    expect(serialize).toHaveBeenCalledTimes(2);
  });

  it('pairs each frame with its own payload when frames for different results alternate', () => {
    const payloads = new NextPayloads(toPayload);
    const a = payloads.placeholder(result);
    const b = payloads.placeholder(failed);
    expect(payloads.frame(graphqlWsFrame('x', b))).toBe(graphqlWsFrame('x', toPayload(failed)));
    expect(payloads.frame(graphqlWsFrame('y', a))).toBe(graphqlWsFrame('y', toPayload(result)));
    expect(payloads.frame(graphqlWsFrame('z', b))).toBe(graphqlWsFrame('z', toPayload(failed)));
  });

  it('passes every other message through untouched', () => {
    const payloads = new NextPayloads(toPayload);
    JSON.stringify({ payload: payloads.placeholder(result) });
    for (const message of [
      JSON.stringify({ type: 'connection_ack' }),
      JSON.stringify({ id: '1', type: 'complete' }),
      JSON.stringify({ id: '1', type: 'error', payload: [{ message: 'no' }] }),
      graphqlWsFrame('2', { data: { a: 'deskforge:serialized-payload' } }),
    ]) {
      expect(payloads.frame(message)).toBe(message);
    }
  });
});
