import { DataSource } from 'typeorm';

/** The parts of a sqlite3 `Database` used here: its end-of-statement event and `interrupt()`. */
interface ProfiledHandle {
  on(event: 'profile', listener: (sql: string, ms: number) => void): void;
  interrupt(): void;
}

/**
 * SQLite's counterpart of PostgreSQL's `statement_timeout` for the connections that serve the
 * accounts' reads, called when an operation is stopped at its time limit: every such connection
 * that has ended no statement since the operation started is interrupted (its statement fails with
 * `SQLITE_INTERRUPT`). A connection runs one statement at a time, so one that ended none for that
 * long is either idle (then `interrupt()` does nothing) or running one statement all that time, the
 * kind the limit is for. sqlite3 reports when a statement ends (`profile`) but not reliably when it
 * starts, hence the test on ends.
 */
export function statementInterrupter(connections: DataSource[]): (runningSince: number) => void {
  const watched = connections.map((connection) => {
    const handle = (connection.driver as unknown as { databaseConnection: ProfiledHandle }).databaseConnection;
    const state = { handle, lastEnded: Date.now() };
    handle.on('profile', () => {
      state.lastEnded = Date.now();
    });
    return state;
  });
  return (runningSince) => {
    for (const state of watched) if (state.lastEnded < runningSince) state.handle.interrupt();
  };
}
