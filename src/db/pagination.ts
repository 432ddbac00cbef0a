import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
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

/**
 * Keyset pagination, newest first with ties broken by id, as every list of the API promises. `query`
 * carries the filters; this adds ordering, the cursor condition and the limit.
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  query: SelectQueryBuilder<T>,
  args: PageArgs,
  sortProperty: keyof T & string = 'createdAt',
): Promise<Page<T>> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInput('first', `"first" must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  const alias = query.alias;
  const totalCount = await query.clone().getCount();
  const page = query
    .clone()
    .orderBy(`${alias}.${sortProperty}`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(first + 1);
  if (args.after) {
    const { sortValue, id } = decodeCursor(args.after);
    const column = query.expressionMap.mainAlias!.metadata.findColumnWithPropertyName(sortProperty)!;
    const stored = query.connection.driver.preparePersistentValue(sortValue, column);
    page.andWhere(
      `(${alias}.${sortProperty} < :cursorSort OR (${alias}.${sortProperty} = :cursorSort AND ${alias}.id < :cursorId))`,
      { cursorSort: stored, cursorId: id },
    );
  }
  const rows = await page.getMany();
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node[sortProperty] as Date, node.id), node }));
  return {
    nodes,
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}
