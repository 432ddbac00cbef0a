/**
 * Options for every object type: fields without a resolver of their own read the property with
 * graphql-js's default resolver. type-graphql would otherwise wrap each one for middlewares and
 * auth checks, which this schema does not use (authentication happens once per request).
 */
export const plainFields = { simpleResolvers: true } as const;
