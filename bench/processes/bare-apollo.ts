import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { serveParent } from '../lib/worker';

/**
 * The query baseline: Apollo Server 5 on Express 5, the service's stack, answering a one-field
 * query with no authentication, database or schema of note. The ceiling of the HTTP + GraphQL layer.
 */
serveParent({
  async listen(): Promise<{ port: number }> {
    const app = express();
    const httpServer = createServer(app);
    const apollo = new ApolloServer({
      typeDefs: 'type Query { hello: String! }',
      resolvers: { Query: { hello: () => 'world' } },
      plugins: [ApolloServerPluginLandingPageDisabled()],
    });
    await apollo.start();
    app.use('/graphql', express.json(), expressMiddleware(apollo));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    return { port: (httpServer.address() as AddressInfo).port };
  },
});
