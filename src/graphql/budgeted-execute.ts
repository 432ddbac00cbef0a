import { execute, ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { DomainError, RateLimited } from '../errors';
import { AccountGate } from './account-gate';
import { GraphQLContext } from './context';
import { OperationBudget, OperationLimits } from './operation-budget';

type PromiseOrValue<T> = Promise<T> | T;

/** An execution's result when it did not run to its end: the reason alone, as a GraphQL error. */
function refusedResult(reason: DomainError): ExecutionResult {
  return { errors: [new GraphQLError(reason.message, { originalError: reason, extensions: { code: reason.code } })] };
}

/**
 * graphql-js's `execute`, run as one operation of the viewer's account: in a turn of `gate` and
 * with a fresh `OperationBudget` in its context. A stopped budget answers with its reason alone; a
 * refused turn with `RATE_LIMITED`. `patient` executions (a live event's) wait for their turn
 * instead. With a free turn and a synchronous execution, the result comes back synchronously.
 */
export function budgetedExecute(
  gate: AccountGate,
  limits: OperationLimits,
  patient = false,
): (args: ExecutionArgs) => PromiseOrValue<ExecutionResult> {
  return (args) => {
    const context = args.contextValue as GraphQLContext | undefined;
    const run = (): PromiseOrValue<ExecutionResult> => {
      const budget = new OperationBudget(limits);
      const done = (result: ExecutionResult): ExecutionResult => {
        budget.finish();
        return budget.reason ? refusedResult(budget.reason) : result;
      };
      const result = execute({ ...args, contextValue: { ...context, budget } });
      return result instanceof Promise ? result.then(done) : done(result);
    };
    const accountId = context?.viewer?.accountId;
    if (!accountId) return run();
    const result = gate.run(accountId, run, patient);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (error instanceof RateLimited) return refusedResult(error);
      throw error;
    });
  };
}
