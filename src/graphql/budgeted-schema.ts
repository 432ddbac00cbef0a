import { GraphQLFieldResolver, GraphQLSchema, isObjectType } from 'graphql';
import { GraphQLContext } from './context';
import { approximateBytes } from './operation-budget';

/**
 * Puts every resolver of `schema` under its operation's budget (`GraphQLContext.budget`): a resolver
 * does not start once the operation is stopped, one under way gives up the moment it stops (its
 * promise is raced against the stop), and what each returns is counted towards the result's size.
 * Only fields with a resolver of their own are wrapped: they are where reads happen and where rows
 * come in; plain fields read a property of a row that was already counted.
 */
export function budgetedSchema(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve) field.resolve = budgeted(field.resolve);
    }
  }
  return schema;
}

function budgeted(resolve: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, GraphQLContext> {
  return (source, args, context, info) => {
    const budget = context?.budget;
    if (!budget) return resolve(source, args, context, info);
    budget.check();
    const value = resolve(source, args, context, info);
    if (value instanceof Promise) {
      return budget.race(
        value.then((resolved: unknown) => {
          budget.count(approximateBytes(resolved));
          return resolved;
        }),
      );
    }
    budget.count(approximateBytes(value));
    return value;
  };
}
