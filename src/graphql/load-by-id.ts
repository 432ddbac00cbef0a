import { GraphQLContext } from './context';

/**
 * The object of `kind` with `id` for a field resolver: through the operation's batched loader
 * (`OperationBudget.load`), so a page of objects reads their linked objects with one statement
 * instead of one each; alone where there is no operation (a test calling a resolver directly).
 */
export async function loadById<V>(
  ctx: GraphQLContext,
  kind: string,
  id: string,
  readMany: (ids: readonly string[]) => Promise<Map<string, V>>,
): Promise<V | undefined> {
  if (ctx.budget) return ctx.budget.load(kind, id, readMany);
  return (await readMany([id])).get(id);
}

/** A field resolver's read, within the operation's reads at once (`OperationBudget.read`). */
export function readWithin<T>(ctx: GraphQLContext, work: () => Promise<T>): Promise<T> {
  return ctx.budget ? ctx.budget.read(work) : work();
}
