import { ExecutionResult, FormattedExecutionResult } from 'graphql';

/** Stands for the payload in graphql-ws's string until the socket's `send` puts the serialized payload there. */
const MARKER = 'deskforge:serialized-payload';
const MARKER_TAIL = `"payload":${JSON.stringify(MARKER)}}`;

/**
 * Serializes each `next` payload once, however many subscribers it goes to.
 *
 * graphql-ws frames every message itself, `JSON.stringify({ id, type: 'next', payload })` per
 * subscriber, which with shared execution would serialize one result thousands of times. Instead its
 * `onNext` hook returns `placeholder(result)`, whose `toJSON` hands over the payload serialized once
 * per result and leaves a marker in graphql-ws's string; `frame` then splices the payload in place
 * of the marker. graphql-ws stringifies and calls the socket's `send` in one synchronous step
 * (`socket.send(stringifyMessage(...))`), so the payload handed over is always the frame's own.
 * The bytes on the wire are those graphql-ws would have produced.
 */
export class NextPayloads {
  private readonly placeholders = new WeakMap<ExecutionResult, object>();
  private handed: string | undefined;

  constructor(private readonly toPayload: (result: ExecutionResult) => FormattedExecutionResult) {}

  /** What `onNext` returns for `result`: one object per result, serialized on first use. */
  placeholder(result: ExecutionResult): object {
    let placeholder = this.placeholders.get(result);
    if (!placeholder) {
      let json: string | undefined;
      placeholder = {
        toJSON: () => {
          json ??= JSON.stringify(this.toPayload(result));
          this.handed = json;
          return MARKER;
        },
      };
      this.placeholders.set(result, placeholder);
    }
    return placeholder;
  }

  /** The frame to put on the wire for a string graphql-ws sends: with the payload in place of a marker. */
  frame(data: string): string {
    const handed = this.handed;
    if (handed === undefined || !data.endsWith(MARKER_TAIL)) return data;
    this.handed = undefined;
    return `${data.slice(0, data.length - MARKER_TAIL.length)}"payload":${handed}}`;
  }
}
