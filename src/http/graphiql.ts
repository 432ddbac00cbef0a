import { Router } from 'express';
import { dirname, join } from 'node:path';

const ASSETS = '/graphiql-assets';

/** A file inside an installed package, even one its `exports` map does not list. */
function packageFile(name: string, file: string): string {
  return join(dirname(require.resolve(`${name}/package.json`)), file);
}

/** Files served under /graphiql-assets, all from installed packages: the explorer needs no internet. */
const assetFiles: Record<string, string> = {
  'react.production.min.js': packageFile('react', 'umd/react.production.min.js'),
  'react-dom.production.min.js': packageFile('react-dom', 'umd/react-dom.production.min.js'),
  'graphiql.min.js': packageFile('graphiql', 'graphiql.min.js'),
  'graphiql.min.css': packageFile('graphiql', 'graphiql.min.css'),
  'graphql-ws.min.js': packageFile('graphql-ws', 'umd/graphql-ws.min.js'),
};

/**
 * The explorer page. Its fetcher speaks HTTP for queries and mutations and graphql-ws on the same
 * path for subscriptions; the headers typed in the header editor travel as `connectionParams`.
 */
function page(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>DeskForge Webhooks · GraphiQL</title>
  <link rel="stylesheet" href="${ASSETS}/graphiql.min.css" />
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="${ASSETS}/react.production.min.js"></script>
  <script src="${ASSETS}/react-dom.production.min.js"></script>
  <script src="${ASSETS}/graphiql.min.js"></script>
  <script src="${ASSETS}/graphql-ws.min.js"></script>
  <script src="${ASSETS}/graphiql-init.js"></script>
</body>
</html>`;
}

/*
 * GraphiQL's own fetcher would subscribe through a graphql-ws client that retries a refused key (4403)
 * five times, leaving a person with a wrong key staring at a spinner for half a minute. This one sends
 * subscriptions through a client that never retries, so the close reason shows at once; queries and
 * mutations go over HTTP as usual.
 */
const initScript = `(function () {
  var http = location.origin + location.pathname;
  var ws = http.replace(/^http/, 'ws');
  var httpFetcher = GraphiQL.createFetcher({ url: http });

  function isSubscription(params, documentAST) {
    return Boolean(documentAST) && documentAST.definitions.some(function (definition) {
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription' &&
        (!params.operationName || (definition.name && definition.name.value === params.operationName));
    });
  }

  /** A close event as GraphiQL shows errors: a message (an Error would bring its stack along). */
  function described(error) {
    if (error && typeof error.code === 'number' && 'reason' in error) {
      return { message: 'WebSocket closed: ' + error.code + ' ' + (error.reason || '') };
    }
    return error;
  }

  /** One connection per run, authenticated with the header editor's headers, closed when the run stops. */
  function subscribe(params, headers) {
    var client = graphqlWs.createClient({ url: ws, connectionParams: headers || {}, retryAttempts: 0 });
    var results = client.iterate(params);
    var finish = function () {
      client.dispose();
    };
    var iterator = {
      next: function () {
        return results.next().then(
          function (step) {
            if (step.done) finish();
            return step;
          },
          function (error) {
            finish();
            throw described(error);
          });
      },
      return: function () {
        finish();
        return results.return ? results.return() : Promise.resolve({ done: true, value: undefined });
      },
    };
    iterator[Symbol.asyncIterator] = function () { return iterator; };
    return iterator;
  }

  function fetcher(params, options) {
    options = options || {};
    return isSubscription(params, options.documentAST) ? subscribe(params, options.headers) : httpFetcher(params, options);
  }

  var defaultQuery = [
    '# DeskForge Webhooks',
    '#',
    '# 1. Paste your API key in the Headers tab below,',
    '#    after "Bearer ".',
    '# 2. Press run and pick "Live": your events show up',
    '#    here as they commit. Make one with "CreateProject"',
    '#    in a second tab, or from any program.',
    '',
    'subscription Live {',
    '  events {',
    '    id',
    '    type',
    '    createdAt',
    '    data {',
    '      project { id name }',
    '      build {',
    '        id version platform arch',
    '        status duration error',
    '      }',
    '    }',
    '  }',
    '}',
    '',
    'subscription Deliveries {',
    '  deliveryUpdated {',
    '    id status attemptCount nextAttemptAt',
    '    webhook { url }',
    '    attempts { number responseStatus durationMs error }',
    '  }',
    '}',
    '',
    'query Recent {',
    '  viewer { id name }',
    '  events(first: 10) { nodes { id type createdAt } }',
    '  webhooks(first: 10) { nodes { id url events active } }',
    '}',
    '',
    'mutation CreateProject {',
    '  createProject(input: { name: "My Desktop App" }) { id name }',
    '}',
    '',
  ].join('\\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultHeaders: '{\\n  "Authorization": "Bearer "\\n}',
    headerEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
  }));
})();
`;

function wantsHtml(accept: string | undefined): boolean {
  return typeof accept === 'string' && accept.includes('text/html');
}

/** GraphiQL at `GET /graphql` for browsers (`Accept: text/html`); other requests fall through to GraphQL. */
export function graphiqlRouter(): Router {
  const router = Router();
  const cached = { maxAge: '1d', immutable: true } as const;
  router.get(`${ASSETS}/graphiql-init.js`, (_req, res) => {
    res.type('application/javascript').send(initScript);
  });
  for (const [name, file] of Object.entries(assetFiles)) {
    router.get(`${ASSETS}/${name}`, (_req, res) => res.sendFile(file, cached));
  }
  router.get('/graphql', (req, res, next) => {
    if (!wantsHtml(req.headers.accept) || req.query.query !== undefined) return next();
    res.type('html').send(page());
  });
  return router;
}
