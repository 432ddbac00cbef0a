import { DataSource, EntityManager } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { chunks, hydrate, queryRows, valuesTable } from '../db/raw-sql';
import { WriteBatcher } from '../db/write-serializer';
import { Project } from '../projects/project.entity';
import { Build } from './build.entity';
import { BuildStatus } from './build.enums';

/**
 * The build mutations' SQL, in one place. A busy write group holds many build mutations; each is one
 * item of `buildWrites`, and a run of them costs one statement per kind (queue, start, complete)
 * instead of one each: under the delivery benchmark those one-row statements were most of the
 * writer's round trips. Every statement returns the build's project as the transaction sees it (one
 * scalar subquery per column, `project.<column>`), so an answer shows the project as it was when the
 * write committed, even if a deletion committed right after.
 */

/** Inserts `build` if its account has its project. Answers the row (its id and project), or null (no such project). */
export interface QueueBuild {
  kind: 'queue';
  build: Build;
}

/** Applies `changes` to the account's build if it is in state `from`. Answers the build row, or null. */
export interface TransitionBuild {
  kind: 'transition';
  id: string;
  accountId: string;
  from: BuildStatus;
  changes: Partial<Build>;
}

export type BuildWrite = QueueBuild | TransitionBuild;

/** A row a build statement returned: the build's id (every column, for transitions) and `project.<column>`s. */
export type BuildRow = Record<string, unknown>;

/**
 * Runs build writes in order, as if one after another: consecutive items of different builds go
 * into one statement per kind (a build's writes never meet in one statement: the second starts the
 * next statements).
 */
export const buildWrites: WriteBatcher<BuildWrite, BuildRow | null> = {
  async run(manager, items) {
    const results = new Map<BuildWrite, BuildRow | null>();
    let segment: BuildWrite[] = [];
    let ids = new Set<string>();
    for (const item of items) {
      const id = item.kind === 'queue' ? item.build.id : item.id;
      if (ids.has(id)) {
        await runSegment(manager, segment, results);
        segment = [];
        ids = new Set();
      }
      segment.push(item);
      ids.add(id);
    }
    await runSegment(manager, segment, results);
    return items.map((item) => results.get(item) ?? null);
  },
};

/** Items of distinct builds: their queues in one INSERT, their transitions in one UPDATE per set of columns changed. */
async function runSegment(manager: EntityManager, items: BuildWrite[], results: Map<BuildWrite, BuildRow | null>): Promise<void> {
  const queues = items.filter((item): item is QueueBuild => item.kind === 'queue');
  for (const chunk of chunks(queues)) {
    const rows = await insertQueued(manager, chunk);
    for (const item of chunk) results.set(item, rows.get(item.build.id) ?? null);
  }
  const byShape = new Map<string, TransitionBuild[]>();
  for (const item of items) {
    if (item.kind !== 'transition') continue;
    const shape = Object.keys(item.changes).join(',');
    const same = byShape.get(shape);
    if (same) same.push(item);
    else byShape.set(shape, [item]);
  }
  for (const transitions of byShape.values()) {
    for (const chunk of chunks(transitions)) {
      const rows = await transitionBuilds(manager, chunk);
      for (const item of chunk) results.set(item, rows.get(item.id) ?? null);
    }
  }
}

const QUEUED_FIELDS: Array<[string, keyof Build & string]> = [
  ['id', 'id'],
  ['accountId', 'accountId'],
  ['projectId', 'projectId'],
  ['version', 'version'],
  ['platform', 'platform'],
  ['arch', 'arch'],
  ['status', 'status'],
  ['queuedAt', 'queuedAt'],
];

/** The queued builds whose account has their project, inserted in one statement; answers rows by build id. */
async function insertQueued(manager: EntityManager, items: QueueBuild[]): Promise<Map<string, BuildRow>> {
  const values = valuesTable(
    manager,
    Build,
    'queued',
    QUEUED_FIELDS,
    items.map((item) => ({ ...item.build })),
  );
  const names = QUEUED_FIELDS.map(([alias]) => `"${alias}"`).join(', ');
  const rows = await queryRows<BuildRow>(
    manager,
    `WITH ${values.sql}
     INSERT INTO "builds" (${names})
     SELECT ${QUEUED_FIELDS.map(([alias]) => `"queued"."${alias}"`).join(', ')} FROM "queued", "projects"
     WHERE "projects"."id" = "queued"."projectId" AND "projects"."accountId" = "queued"."accountId"
     RETURNING "id", ${projectColumns(manager).sql}`,
    values.parameters,
  );
  return new Map(rows.map((row) => [row.id as string, row]));
}

/** Transitions that change the same columns, in one statement; answers rows by build id. */
async function transitionBuilds(manager: EntityManager, items: TransitionBuild[]): Promise<Map<string, BuildRow>> {
  const properties = Object.keys(items[0].changes) as Array<keyof Build & string>;
  const fields: Array<[string, keyof Build & string]> = [
    ['id', 'id'],
    ['accountId', 'accountId'],
    ['from', 'status'],
    ...properties.map((property): [string, keyof Build & string] => [`set.${property}`, property]),
  ];
  const values = valuesTable(
    manager,
    Build,
    'change',
    fields,
    items.map((item) => ({
      id: item.id,
      accountId: item.accountId,
      from: item.from,
      ...Object.fromEntries(properties.map((property) => [`set.${property}`, item.changes[property]])),
    })),
  );
  const metadata = manager.connection.getMetadata(Build);
  const set = properties
    .map((property) => `"${metadata.findColumnWithPropertyName(property)!.databaseName}" = "change"."set.${property}"`)
    .join(', ');
  // Each column by name: SQLite's RETURNING takes no "builds".*, and PostgreSQL's * would add "change"'s.
  const build = metadata.columns.map((column) => `"builds"."${column.databaseName}" AS "${column.databaseName}"`).join(', ');
  const rows = await queryRows<BuildRow>(
    manager,
    `WITH ${values.sql}
     UPDATE "builds" SET ${set} FROM "change"
     WHERE "builds"."id" = "change"."id" AND "builds"."accountId" = "change"."accountId" AND "builds"."status" = "change"."from"
     RETURNING ${build}, ${projectColumns(manager).sql}`,
    values.parameters,
  );
  return new Map(rows.map((row) => [row.id as string, row]));
}

/** Whether the account has the build, and its status, when a transition matched nothing. */
export async function buildStatus(manager: EntityManager, accountId: string, id: string): Promise<BuildStatus | null> {
  const [current] = await queryRows<{ status: BuildStatus }>(manager, 'SELECT "status" FROM "builds" WHERE "id" = ? AND "accountId" = ?', [
    id,
    accountId,
  ]);
  return current?.status ?? null;
}

/** The RETURNING list of a build's project (`project.<column>`), made once per data source (it is on every build mutation). */
const projectReturning = new WeakMap<DataSource, { sql: string; columns: ColumnMetadata[] }>();

function projectColumns(manager: EntityManager): { sql: string; columns: ColumnMetadata[] } {
  const { connection } = manager;
  let made = projectReturning.get(connection);
  if (!made) {
    const columns = connection.getMetadata(Project).columns;
    const sql = columns
      .map(
        (column) =>
          `(SELECT "p"."${column.databaseName}" FROM "projects" "p" WHERE "p"."id" = "builds"."projectId") AS "project.${column.databaseName}"`,
      )
      .join(', ');
    made = { sql, columns };
    projectReturning.set(connection, made);
  }
  return made;
}

/** The project of a row a build write returned. */
export function projectFrom(manager: EntityManager, row: BuildRow): Project {
  const { columns } = projectColumns(manager);
  return hydrate(
    manager,
    Project,
    Object.fromEntries(columns.map((column) => [column.databaseName, row[`project.${column.databaseName}`]])),
    columns,
  );
}
