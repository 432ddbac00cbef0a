import { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { WebSocket } from 'ws';
import { ResultSink } from '../graphql/shared-execution';

/**
 * Writes subscriptions' `next` messages straight to their sockets, past graphql-ws's per-message
 * path (a few promises, a validation and a `JSON.stringify` of the whole message per subscriber and
 * event). The bytes are the ones graphql-ws sends, `JSON.stringify({ id, type: 'next', payload })`,
 * with each result's payload serialized once however many subscribers share it.
 */
export class NextFrames {
  private readonly serialized = new WeakMap<ExecutionResult, string>();

  constructor(private readonly toPayload: (result: ExecutionResult) => FormattedExecutionResult) {}

  /**
   * The sink for operation `id` on `socket`, while graphql-ws still runs it (`id` is in
   * `ctx.subscriptions`). Writes at once while the socket keeps up; once data waits in its buffer
   * (the client reads slower than events come), the sink asks for no more until that frame is handed
   * to the OS, so the events wait in the subscription's bounded queue instead of piling up as frames.
   */
  sink(socket: WebSocket, id: string, ctx: { readonly subscriptions: Record<string, unknown> }): ResultSink {
    return new NextFrameSink(this, socket, id, ctx);
  }

  /** The payload of `result`'s `next` message as JSON, serialized on first use. */
  payloadJson(result: ExecutionResult): string {
    let json = this.serialized.get(result);
    if (json === undefined) {
      json = JSON.stringify(this.toPayload(result));
      this.serialized.set(result, json);
    }
    return json;
  }
}

class NextFrameSink implements ResultSink {
  private readonly prefix: string;

  constructor(
    private readonly frames: NextFrames,
    private readonly socket: WebSocket,
    private readonly id: string,
    private readonly ctx: { readonly subscriptions: Record<string, unknown> },
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  }

  write(result: ExecutionResult, ready: () => void): boolean {
    const { socket } = this;
    if (socket.readyState !== WebSocket.OPEN || !(this.id in this.ctx.subscriptions)) return true;
    const frame = `${this.prefix}${this.frames.payloadJson(result)}}`;
    if (socket.bufferedAmount === 0) {
      socket.send(frame);
      return true;
    }
    socket.send(frame, ready);
    return false;
  }
}
