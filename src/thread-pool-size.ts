/**
 * Imported first by `main.ts`, before anything uses libuv's thread pool: sqlite3 runs every statement
 * there (and Node its file, DNS and crypto work), and it has 4 threads unless told otherwise. Each
 * SQLite connection keeps one at a time busy, and a connection may hold more waiting on its own lock:
 * one account's long reads could then take all four, and the writer, the worker's reads and
 * `/healthz` would wait for a thread. 16 leaves threads for them. `UV_THREADPOOL_SIZE` set by the
 * operator wins.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';
