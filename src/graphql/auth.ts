import { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { GraphQLContext } from './context';

function onlyIntrospection(selectionSet: SelectionSetNode, document: DocumentNode): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === 'Field') return selection.name.value.startsWith('__');
    if (selection.kind === 'InlineFragment') return onlyIntrospection(selection.selectionSet, document);
    const fragment = document.definitions.find(
      (definition) => definition.kind === 'FragmentDefinition' && definition.name.value === selection.name.value,
    );
    return fragment?.kind === 'FragmentDefinition' && onlyIntrospection(fragment.selectionSet, document);
  });
}

/** True when the operation asks only for `__schema`, `__type` or `__typename` at its top level. */
export function isIntrospectionOnly(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  return operation.operation === 'query' && onlyIntrospection(operation.selectionSet, document);
}

export function unauthenticatedError(): GraphQLError {
  return new GraphQLError('A valid API key is required: send "Authorization: Bearer <apiKey>"', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}

/**
 * Refuses every HTTP operation without a valid key with 401, before any resolver runs. Introspection
 * alone is allowed, so GraphiQL can show the schema before a key is pasted.
 */
export const requireApiKeyPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation, document }) {
        if (contextValue.viewer) return;
        if (operation && isIntrospectionOnly(operation, document)) return;
        throw unauthenticatedError();
      },
    };
  },
};
