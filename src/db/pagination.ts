import { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { InvalidInput } from '../errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  nodes: T[];
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * Equality filters by entity property; an array means "one of". `undefined` and `null` values (an
 * argument the client left out) and empty arrays filter nothing.
 */
export type Filters<T> = { [K in keyof T]?: T[K] | Array<T[K]> | null };

function encodeCursor(sortValue: Date, id: string): string {
  return Buffer.from(JSON.stringify([sortValue.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { sortValue: Date; id: string } {
  try {
    const [iso, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const sortValue = new Date(String(iso));
    if (typeof id !== 'string' || Number.isNaN(sortValue.getTime())) throw new Error('bad cursor');
    return { sortValue, id };
  } catch {
    throw new InvalidInput('after', '"after" is not a cursor returned by this list');
  }
}

function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new InvalidInput('first', `"first" must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
}

function column(metadata: EntityMetadata, property: string): ColumnMetadata {
  const found = metadata.findColumnWithPropertyName(property);
  if (!found) throw new Error(`${metadata.name} has no column ${property}`);
  return found;
}

/** Rows to entities through TypeORM's own value conversion (dates, booleans, transformers), without its generic join machinery. */
function hydrate<T>(source: DataSource, metadata: EntityMetadata, rows: ObjectLiteral[]): T[] {
  const columns = metadata.columns.filter((candidate) => !candidate.isVirtual);
  return rows.map((row) => {
    const entity = metadata.create() as ObjectLiteral;
    for (const candidate of columns) {
      entity[candidate.propertyName] = source.driver.prepareHydratedValue(row[candidate.databaseName], candidate);
    }
    return entity as T;
  });
}

/**
 * Keyset pagination, newest first with ties broken by id, as every list of the API promises. A first
 * page is one statement (rows and `COUNT(*) OVER ()`); a later page runs its rows and the count side
 * by side. SQL is built from the entity metadata and the driver's escaping, so it is not tied to SQLite.
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  source: DataSource,
  entity: EntityTarget<T>,
  filters: Filters<T>,
  args: PageArgs,
  sortProperty: keyof T & string = 'createdAt',
): Promise<Page<T>> {
  const first = pageSize(args.first);
  const metadata = source.getMetadata(entity);
  const { driver } = source;
  const name = (property: string) => driver.escape(column(metadata, property).databaseName);
  const conditions: string[] = [];
  const parameters: ObjectLiteral = {};
  Object.entries(filters).forEach(([property, value], index) => {
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return;
    const meta = column(metadata, property);
    if (Array.isArray(value)) {
      conditions.push(`${name(property)} IN (:...f${index})`);
      parameters[`f${index}`] = value.map((item) => driver.preparePersistentValue(item, meta));
    } else {
      conditions.push(`${name(property)} = :f${index}`);
      parameters[`f${index}`] = driver.preparePersistentValue(value, meta);
    }
  });
  const table = driver.escape(metadata.tableName);
  const filtered = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const run = (sql: string) => source.query(...driver.escapeQueryWithParameters(sql, parameters, {}));
  const sort = name(sortProperty);
  const id = name('id');
  const order = `ORDER BY ${sort} DESC, ${id} DESC LIMIT ${first + 1}`;

  let rows: ObjectLiteral[];
  let totalCount: number;
  if (args.after) {
    const { sortValue, id: cursorId } = decodeCursor(args.after);
    parameters.cursorSort = driver.preparePersistentValue(sortValue, column(metadata, sortProperty));
    parameters.cursorId = cursorId;
    const after = `(${sort} < :cursorSort OR (${sort} = :cursorSort AND ${id} < :cursorId))`;
    const where = conditions.length > 0 ? `${filtered} AND ${after}` : `WHERE ${after}`;
    const [pageRows, counted] = await Promise.all([
      run(`SELECT * FROM ${table} ${where} ${order}`),
      run(`SELECT COUNT(*) AS "total" FROM ${table} ${filtered}`),
    ]);
    rows = pageRows;
    totalCount = Number(counted[0].total);
  } else {
    rows = await run(`SELECT *, COUNT(*) OVER () AS "__total" FROM ${table} ${filtered} ${order}`);
    totalCount = rows.length > 0 ? Number(rows[0].__total) : 0;
  }

  const nodes = hydrate<T>(source, metadata, rows.slice(0, first));
  const last = nodes.at(-1);
  return {
    nodes,
    // Cursors are built only when a client asks for edges.
    get edges() {
      return nodes.map((node) => ({ cursor: encodeCursor(node[sortProperty] as Date, node.id), node }));
    },
    pageInfo: { hasNextPage: rows.length > first, endCursor: last ? encodeCursor(last[sortProperty] as Date, last.id) : null },
    totalCount,
  };
}
