import { execute, ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { DomainError, RateLimited } from '../errors';
import { AccountGate } from './account-gate';
import { GraphQLContext } from './context';
import { OperationBudget, OperationLimits } from './operation-budget';
import { HeavyOperations } from './query-limits';

type PromiseOrValue<T> = Promise<T> | T;

/** An execution's result when it did not run to its end: the reason alone, as a GraphQL error. */
function refusedResult(reason: DomainError): ExecutionResult {
  return { errors: [new GraphQLError(reason.message, { originalError: reason, extensions: { code: reason.code } })] };
}

export interface BudgetedExecuteOptions {
  gate: AccountGate;
  limits: OperationLimits;
  /** Turns for heavy operations (by `GraphQLContext.cost`), shared by the process. */
  heavy?: HeavyOperations;
  /** Wait for turns instead of being refused (a live event's execution). */
  patient?: boolean;
}

/**
 * graphql-js's `execute`, run as one operation of the viewer's account: in a turn of its `gate`
 * (and, when heavy, of the process's heavy turns) and with a fresh `OperationBudget` in its context.
 * A stopped budget answers with its reason alone; a refused turn with `RATE_LIMITED`. `patient`
 * executions wait for their turns instead. With free turns and a synchronous execution, the result
 * comes back synchronously.
 */
export function budgetedExecute({
  gate,
  limits,
  heavy,
  patient = false,
}: BudgetedExecuteOptions): (args: ExecutionArgs) => PromiseOrValue<ExecutionResult> {
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
    const inTurn =
      heavy && (context?.cost ?? 0) >= heavy.fromCost
        ? () => heavy.gate.enter(accountId, patient).then((leave) => Promise.resolve(run()).finally(leave))
        : run;
    const result = gate.run(accountId, inTurn, patient);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (error instanceof RateLimited) return refusedResult(error);
      throw error;
    });
  };
}
