/**
 * Imported first by `main.ts`: the service runs in production mode unless told otherwise.
 * graphql-js and Apollo Server read NODE_ENV when they load; in development mode graphql-js checks
 * every `instanceof` for duplicate module copies, a measurable cost on each field of each request.
 * Tests and tools that import the app directly keep their own NODE_ENV.
 */
process.env.NODE_ENV ??= 'production';
