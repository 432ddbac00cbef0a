import { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  getNamedType,
  getOperationAST,
  GraphQLError,
  GraphQLNamedType,
  GraphQLSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  valueFromASTUntyped,
} from 'graphql';
import { LimitsConfig } from '../config';
import { RateLimited } from '../errors';
import { GraphQLContext } from './context';
import { HeavyGate } from './heavy-gate';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../db/pagination';

/** graphql-armor throws by default, which Apollo reports as a 500; reporting makes it a validation error (400). */
const report = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/** Depth and alias limits, checked during validation. The cost needs the variables: see `costLimitError`. */
export function queryLimitRules(limits: LimitsConfig): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.queryDepth, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: limits.queryAliases, ...report }),
  ] as ValidationRule[];
}

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/**
 * What an aggregate field (`totalCount`, `stats`, `timeline`) costs, wherever it appears (API.md §3):
 * it reads every matching row, not a page of them, so one is priced like a full page of 100 nodes.
 * Fields are marked as aggregates in the schema with `@Extensions(AGGREGATE)`.
 */
export const AGGREGATE_COST = 100;
export const AGGREGATE = { aggregate: true } as const;

/**
 * The work an operation can cause, in nodes (API.md §3): every connection (a field with a `first`
 * argument) counts its page size, multiplied by the page sizes of the connections around it; every
 * aggregate field counts `AGGREGATE_COST`, multiplied likewise by how many times it can be resolved.
 * The page size is `first` from a literal, a variable's value or the variable's default, else 20, and
 * at most 100 (lists refuse more). Other fields and introspection cost nothing. Fragments are costed
 * once each, so the work is linear in the document's size.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const defaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, valueFromASTUntyped(definition.defaultValue));
  }

  const pageSize = (field: FieldNode): number => {
    const value = field.arguments?.find((argument) => argument.name.value === 'first')?.value;
    let first: unknown;
    if (value?.kind === Kind.VARIABLE) {
      const name = value.name.value;
      first = variables?.[name] !== undefined ? variables[name] : defaults.get(name);
    } else if (value) {
      first = valueFromASTUntyped(value);
    }
    // A value that is not a whole number fails variable coercion or argument validation anyway.
    if (typeof first !== 'number' || !Number.isInteger(first)) return DEFAULT_PAGE_SIZE;
    return Math.min(Math.max(first, 0), MAX_PAGE_SIZE);
  };

  /** A fragment's cost for one evaluation (costs are linear in how often a selection is evaluated). */
  const fragmentCosts = new Map<string, number>();
  const fragmentCost = (name: string, page: number | undefined): number => {
    const key = `${name}:${page ?? ''}`;
    const known = fragmentCosts.get(key);
    if (known !== undefined) return known;
    // Validation refuses fragment cycles; this only keeps a cycle from recursing forever.
    fragmentCosts.set(key, 0);
    const fragment = fragments.get(name);
    const cost = fragment ? selectionCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), 1, page) : 0;
    fragmentCosts.set(key, cost);
    return cost;
  };

  /**
   * The cost of `selectionSet` on `parentType`, evaluated `times` times; `page` is set when the parent
   * is a connection of that page size, whose `nodes` and `edges` are then evaluated `page` times more.
   */
  const selectionCost = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType | null | undefined,
    times: number,
    page?: number,
  ): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        total += times * fragmentCost(selection.name.value, page);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += selectionCost(
          selection.selectionSet,
          selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType,
          times,
          page,
        );
      } else {
        // Meta fields (`__typename`, `__schema`, `__type`) are not among the type's fields.
        const definition =
          isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[selection.name.value] : undefined;
        if (!definition) continue;
        const type = getNamedType(definition.type);
        const name = selection.name.value;
        const each = page !== undefined && (name === 'nodes' || name === 'edges') ? times * page : times;
        if (definition.extensions?.aggregate) total += each * AGGREGATE_COST;
        if (definition.args.some((argument) => argument.name === 'first')) {
          const size = pageSize(selection);
          total += each * size + (selection.selectionSet ? selectionCost(selection.selectionSet, type, each, size) : 0);
        } else if (selection.selectionSet) {
          total += selectionCost(selection.selectionSet, type, each);
        }
      }
    }
    return total;
  };

  return selectionCost(operation.selectionSet, schema.getRootType(operation.operation), 1);
}

/**
 * The error refusing an operation whose `operationCost` is over the limit, or undefined. Checked
 * once the variables are known, before execution: over HTTP by `queryCostPlugin`, over WebSocket
 * when an operation is subscribed.
 */
export function costLimitError(limits: Pick<LimitsConfig, 'queryCost'>, cost: number): GraphQLError | undefined {
  if (cost <= limits.queryCost) return undefined;
  return new GraphQLError(
    `Query cost ${cost} is over the limit of ${limits.queryCost}: each connection counts its page size (first, default ${DEFAULT_PAGE_SIZE}) and each aggregate (totalCount, stats) ${AGGREGATE_COST}, times the page sizes around them. Ask for smaller pages, fewer nested lists or fewer aggregates.`,
    { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } },
  );
}

/** Operations this costly or more are heavy: they take turns for the whole process (`HeavyGate`). */
export interface HeavyOperations {
  gate: HeavyGate;
  /** The cost from which an operation is heavy. */
  fromCost: number;
}

/**
 * The cost limit over HTTP: Apollo knows the operation and its variables once it has resolved the
 * operation. A heavy operation then waits for its turn (`HeavyGate`), given back once its answer is out.
 */
export function queryCostPlugin(limits: Pick<LimitsConfig, 'queryCost'>, heavy?: HeavyOperations): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      let leave: (() => void) | undefined;
      return {
        async didResolveOperation({ schema, document, operationName, request, contextValue }) {
          const cost = operationCost(schema, document, operationName, request.variables);
          const error = costLimitError(limits, cost);
          if (error) throw error;
          const accountId = contextValue.viewer?.accountId;
          if (!heavy || !accountId || cost < heavy.fromCost) return;
          try {
            leave = await heavy.gate.enter(accountId);
          } catch (refused) {
            if (!(refused instanceof RateLimited)) throw refused;
            throw new GraphQLError(refused.message, {
              extensions: {
                code: refused.code,
                http: { status: 429, headers: new Map([['retry-after', String(refused.retryAfterSeconds)]]) },
              },
            });
          }
        },
        async willSendResponse() {
          leave?.();
        },
      };
    },
  };
}
