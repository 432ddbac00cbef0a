import { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { InvalidInput } from '../errors';
import { clientId } from '../ids';
import { hydrate } from './raw-sql';
import { readRows } from './statement-cache';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/**
 * Most values of one list filter. Services fold the lists clients send (seven event types at most);
 * a longer one is refused here rather than sent to SQL, where it would cost a bound variable each.
 */
export const MAX_FILTER_VALUES = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  nodes: T[];
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /**
   * How many rows the whole list holds, counted only when asked (once per page: GraphQL's default
   * resolver calls it), since a count reads every matching row where the page reads `first`.
   */
  totalCount(): Promise<number>;
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
    // An id no lookup could match (U+0000, which PostgreSQL refuses, or a lone surrogate) is in no cursor of ours.
    if (typeof id !== 'string' || clientId(id) !== id || Number.isNaN(sortValue.getTime())) throw new Error('bad cursor');
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

/**
 * The columns to read: those of `select` (entity property names) plus the id and sort columns, or
 * every column when `select` is missing or names anything that is not a column (a computed field
 * may need any of them). Each column read costs, most of all long ones, so lists read what is asked.
 */
function columnsToRead(metadata: EntityMetadata, sortProperty: string, select: ReadonlySet<string> | undefined): ColumnMetadata[] {
  const columns = metadata.columns.filter((candidate) => !candidate.isVirtual);
  if (!select) return columns;
  const wanted = new Set([...select, 'id', sortProperty]);
  const chosen = columns.filter((candidate) => wanted.has(candidate.propertyName));
  return chosen.length === wanted.size ? chosen : columns;
}

/**
 * Keyset pagination, newest first with ties broken by id, as every list of the API promises. A page
 * is one statement; the count of the whole list is a second one, run only when `totalCount` is asked
 * for (an aggregate, priced as such by the query cost). Statements are kept prepared (`readRows`): their SQL depends only on the filters used
 * and the columns read. With `select`, nodes carry only those properties (and id and sort), so
 * such pages are for results that go straight to GraphQL. SQL is built from the entity metadata and
 * the driver's escaping, so it is not tied to SQLite.
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  source: DataSource,
  entity: EntityTarget<T>,
  filters: Filters<T>,
  args: PageArgs,
  sortProperty: keyof T & string = 'createdAt',
  select?: ReadonlySet<string>,
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
      if (value.length > MAX_FILTER_VALUES) throw new InvalidInput(property, `"${property}" may list at most ${MAX_FILTER_VALUES} values`);
      conditions.push(`${name(property)} IN (:...f${index})`);
      parameters[`f${index}`] = value.map((item) => driver.preparePersistentValue(item, meta));
    } else {
      conditions.push(`${name(property)} = :f${index}`);
      parameters[`f${index}`] = driver.preparePersistentValue(value, meta);
    }
  });
  const table = driver.escape(metadata.tableName);
  const filtered = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const run = (sql: string) => readRows<ObjectLiteral>(source, ...driver.escapeQueryWithParameters(sql, parameters, {}));
  const sort = name(sortProperty);
  const id = name('id');
  const columns = columnsToRead(metadata, sortProperty, select);
  const selected = columns.map((candidate) => driver.escape(candidate.databaseName)).join(', ');
  parameters.limit = first + 1;
  const order = `ORDER BY ${sort} DESC, ${id} DESC LIMIT :limit`;

  let where = filtered;
  if (args.after) {
    const { sortValue, id: cursorId } = decodeCursor(args.after);
    parameters.cursorSort = driver.preparePersistentValue(sortValue, column(metadata, sortProperty));
    parameters.cursorId = cursorId;
    const after = `(${sort} < :cursorSort OR (${sort} = :cursorSort AND ${id} < :cursorId))`;
    where = conditions.length > 0 ? `${filtered} AND ${after}` : `WHERE ${after}`;
  }
  const rows = await run(`SELECT ${selected} FROM ${table} ${where} ${order}`);
  let counted: Promise<number> | undefined;
  const totalCount = () =>
    (counted ??= run(`SELECT COUNT(*) AS "total" FROM ${table} ${filtered}`).then((result) => Number(result[0].total)));

  const nodes = rows.slice(0, first).map((row) => hydrate<T>(source.manager, entity, row, columns));
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
