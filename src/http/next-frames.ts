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
   * The sink for operation `id` on `socket`, while `isActive()` (graphql-ws still runs it). Writes at
   * once while the socket keeps up; once data waits in its buffer (the client reads slower than events
   * come), the sink asks for no more until that frame is handed to the OS, so the events wait in the
   * subscription's bounded queue instead of piling up as frames.
   */
  sink(socket: WebSocket, id: string, isActive: () => boolean): ResultSink {
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    return {
      write: (result, ready) => {
        if (socket.readyState !== WebSocket.OPEN || !isActive()) return true;
        const frame = `${prefix}${this.payloadJson(result)}}`;
        if (socket.bufferedAmount === 0) {
          socket.send(frame);
          return true;
        }
        socket.send(frame, () => ready());
        return false;
      },
    };
  }

  private payloadJson(result: ExecutionResult): string {
    let json = this.serialized.get(result);
    if (json === undefined) {
      json = JSON.stringify(this.toPayload(result));
      this.serialized.set(result, json);
    }
    return json;
  }
}
