import { DataSource, EntityManager } from 'typeorm';

/**
 * The two engines the service runs on. SQLite is the embedded default (one machine); PostgreSQL is
 * for several machines. The SQL we write by hand is written once, with `?` placeholders, and turned
 * into the engine's form here; where the engines need different statements, the queries file of the
 * domain says so with `engineOf`.
 */
export type Engine = 'sqlite' | 'postgres';

/** True for a `postgres://` or `postgresql://` location (else it is a SQLite file path). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The engine a data source, or an entity manager, talks to. */
export function engineOf(target: DataSource | EntityManager): Engine {
  const source = target instanceof DataSource ? target : target.connection;
  return source.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * The statement in the engine's placeholder style: `?` stays on SQLite and becomes `$1`, `$2`, …
 * on PostgreSQL. A `?` inside a quoted name or a string literal is left alone.
 */
export function forEngine(engine: Engine, sql: string): string {
  if (engine === 'sqlite' || !sql.includes('?')) return sql;
  let index = 0;
  let quote: string | null = null;
  let out = '';
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '?') {
      out += `$${++index}`;
      continue;
    }
    out += char;
  }
  return out;
}

/**
 * The location without its passwords, for logs and error messages: `postgres://user:***@host:5432/db`.
 * The pg driver also takes passwords as parameters (`?password=…`, `?sslpassword=…`): masked too.
 */
export function redactLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, '***');
    return url.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return 'postgres://(malformed)';
  }
}
