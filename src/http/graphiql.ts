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
  <script src="${ASSETS}/graphiql-init.js"></script>
</body>
</html>`;
}

const initScript = `(function () {
  var http = location.origin + location.pathname;
  var ws = http.replace(/^http/, 'ws');
  var fetcher = GraphiQL.createFetcher({ url: http, subscriptionUrl: ws });
  var defaultQuery = [
    '# Paste your API key in the Headers tab below:',
    '#   { "Authorization": "Bearer dfk_..." }',
    '',
    'query Viewer {',
    '  viewer { id name }',
    '  webhooks(first: 10) { totalCount nodes { id url events active } }',
    '}',
    '',
    '# subscription Live { events { id type createdAt payload } }',
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
