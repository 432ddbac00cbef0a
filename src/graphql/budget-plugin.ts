import { ApolloServerPlugin } from '@apollo/server';
import { FormattedExecutionResult } from 'graphql';
import { DomainError } from '../errors';
import { GraphQLContext } from './context';
import { tooLargeMessage } from './operation-budget';

/** The HTTP status of an operation stopped by its budget. */
const STATUS_OF_STOP: Record<string, number> = { TIMEOUT: 504, RESPONSE_TOO_LARGE: 400 };

/** The whole answer of an operation stopped by its budget: its reason alone, no partial data. */
export function stoppedResult(reason: DomainError): FormattedExecutionResult {
  return { errors: [{ message: reason.message, extensions: { code: reason.code } }] };
}

/**
 * Over HTTP, an operation its budget stopped (`TIMEOUT`, `RESPONSE_TOO_LARGE`) answers with that
 * reason alone, not with the partial data and the per-field errors the stop left behind.
 */
export const operationBudgetPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        const reason = contextValue.budget?.reason;
        if (!reason || response.body.kind !== 'single') return;
        response.body.singleResult = stoppedResult(reason);
        response.http.status = STATUS_OF_STOP[reason.code] ?? 500;
      },
    };
  },
};

/**
 * Apollo's `stringifyResult` with the size limit as a last line: a result over `resultBytes` that
 * the budget's running count missed (it counts what resolvers return, not every plain field) is
 * answered with `RESPONSE_TOO_LARGE` instead of being sent.
 */
export function limitedStringify(resultBytes: number): (value: FormattedExecutionResult) => string {
  return (value) => {
    const json = JSON.stringify(value);
    if (json.length <= resultBytes) return `${json}\n`;
    const message = tooLargeMessage(resultBytes);
    return `${JSON.stringify({ errors: [{ message, extensions: { code: 'RESPONSE_TOO_LARGE' } }] })}\n`;
  };
}
