import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { LimitsConfig } from '../config';

/** graphql-armor throws by default, which Apollo reports as a 500; reporting makes it a validation error (400). */
const report = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/** Depth, alias and cost limits, checked during validation: an abusive document never executes. */
export function queryLimitRules(limits: LimitsConfig): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.queryDepth, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: limits.queryAliases, ...report }),
    costLimitRule({ maxCost: limits.queryCost, ignoreIntrospection: true, ...report }),
  ] as ValidationRule[];
}
