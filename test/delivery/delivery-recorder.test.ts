import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock';
import { Database, openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { AttemptOutcome, DeliveryRecorder } from '../../src/delivery/delivery-recorder';
import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { ChangeLog } from '../../src/feed/change-log';
import { noSignals } from '../../src/feed/commit-signals';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { freshDatabase, sql } from '../helpers/test-database';

describe('delivery recorder', () => {
  let dir: string;
  let db: Database;
  let recorder: DeliveryRecorder;
  let next = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-recorder-'));
    db = await openDatabase(freshDatabase(dir, 'recorder'), appDatabaseSchema);
    recorder = new DeliveryRecorder(db, new ChangeLog(systemClock, noSignals), systemClock, new Metrics(), createLogger('silent'), {
      windowMs: 2,
      disableAfterFailures: 15,
    });
    await sql(
      db.dataSource,
      `INSERT INTO events (id, "accountId", type, "projectId", payload, "createdAt", test) VALUES ('evt_1', 'acc_1', 'project.created', 'proj_1', '{}', '2024-01-01 00:00:00.000', FALSE)`,
    );
  });
  afterAll(async () => {
    await recorder.flush();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `count` PENDING deliveries stored, and a successful first attempt for each. */
  async function pendingOutcomes(count: number): Promise<AttemptOutcome[]> {
    const ids = Array.from({ length: count }, () => `dlv_${(next += 1)}`);
    await db.writes.write(async ({ manager }) => {
      for (const id of ids) {
        await sql(
          manager,
          `INSERT INTO deliveries (id, "accountId", "webhookId", "eventId", status, "attemptCount", "nextAttemptAt", "createdAt", "leaseToken") VALUES (?, 'acc_1', 'wh_1', 'evt_1', 'pending', 0, NULL, '2024-01-01 00:00:00.000', 'lease_1')`,
          [id],
        );
      }
    });
    return ids.map((id) => ({
      delivery: { id, accountId: 'acc_1', webhookId: 'wh_1', eventId: 'evt_1' },
      leaseToken: 'lease_1',
      number: 1,
      sent: true,
      startedAt: new Date(),
      durationMs: 3,
      responseStatus: 200,
      responseBody: 'ok',
      error: null,
      status: DeliveryStatus.SUCCEEDED,
      nextAttemptAt: null,
      webhookEffect: 'succeeded',
    }));
  }

  it('stores what waits in transactions of at most 500 outcomes, each more than one statement holds', async () => {
    const outcomes = await pendingOutcomes(1_234);
    const writes = jest.spyOn(db.writes, 'write');
    const applied = await Promise.all(outcomes.map((outcome) => recorder.record(outcome)));
    // The writer is free between them for the claims and mutations queued meanwhile.
    expect(writes).toHaveBeenCalledTimes(3);
    writes.mockRestore();
    expect(applied.every(Boolean)).toBe(true);
    const [{ succeeded }] = await sql(db.reader, `SELECT count(*) AS succeeded FROM deliveries WHERE status = 'succeeded'`);
    expect(succeeded).toBe(1_234);
    const [{ attempts }] = await sql(db.reader, 'SELECT count(*) AS attempts FROM delivery_attempts');
    expect(attempts).toBe(1_234);
    // Each stored outcome is announced to every process through the change feed, in the same
    // transaction: rows of up to 500 messages each, in the order of the outcomes.
    const rows = await sql(db.reader, `SELECT body FROM changes WHERE topic = 'delivery' ORDER BY position`);
    expect(rows.map((row) => JSON.parse(row.body).length)).toEqual([500, 500, 234]);
    expect(rows.flatMap((row) => JSON.parse(row.body).map((message: { id: string }) => message.id))).toEqual(
      outcomes.map((outcome) => outcome.delivery.id),
    );
    expect(recorder.backlog).toBe(0);
  });

  it('stores nothing for a delivery whose lease was lost, but keeps the request made as history', async () => {
    const [outcome] = await pendingOutcomes(1);
    await db.writes.write(({ manager }) =>
      sql(manager, `UPDATE deliveries SET "leaseToken" = 'someone_else' WHERE id = ?`, [outcome.delivery.id]),
    );
    await expect(recorder.record(outcome)).resolves.toBe(false);
    const [row] = await sql(db.reader, 'SELECT status, "leaseToken" FROM deliveries WHERE id = ?', [outcome.delivery.id]);
    expect(row).toEqual({ status: 'pending', leaseToken: 'someone_else' });
  });

  it('counts what waits to be stored, and room() resolves once the backlog is below the bound', async () => {
    const outcomes = await pendingOutcomes(30);
    let release!: () => void;
    let holding!: () => void;
    const writing = new Promise<void>((resolve) => (holding = resolve));
    const held = db.writes.write(() => {
      holding();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await writing;
    const stored = Promise.all(outcomes.map((outcome) => recorder.record(outcome)));
    expect(recorder.backlog).toBe(30);
    let roomMade = false;
    const room = recorder.room(10).then(() => (roomMade = true));
    await expect(recorder.room(31)).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomMade).toBe(false);
    release();
    await held;
    await stored;
    await room;
    expect(recorder.backlog).toBe(0);
  });
});
