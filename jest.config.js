/**
 * Jest runs the TypeScript sources directly; `npm test` type-checks them first with tsc.
 * Two projects run side by side: the whole suite on SQLite, and again on PostgreSQL
 * (`DESKFORGE_TEST_ENGINE=postgres`, the server of `DESKFORGE_TEST_DATABASE_URL`), less the files
 * about SQLite itself; the files under test/postgres run on PostgreSQL only.
 * `npm test -- --selectProjects sqlite` (or `postgres`) runs one of them.
 */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(p-queue|p-timeout|eventemitter3)/)'],
  setupFiles: ['reflect-metadata'],
  setupFilesAfterEnv: ['<rootDir>/test/setup-engine.ts'],
};

/** Tests of SQLite's own behaviour (files, pragmas, its statement cache, its locks). */
const sqliteOnly = [
  '/test/db/database.test.ts',
  '/test/db/migrations.test.ts',
  '/test/db/statement-cache.test.ts',
  '/test/logger.test.ts',
  '/test/accounts/account-create-cli.test.ts',
];

module.exports = {
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  projects: [
    { ...shared, displayName: 'sqlite', testPathIgnorePatterns: ['/node_modules/', '/test/postgres/'] },
    {
      ...shared,
      displayName: 'postgres',
      testPathIgnorePatterns: ['/node_modules/', ...sqliteOnly],
      setupFiles: [...shared.setupFiles, '<rootDir>/test/engine-postgres.js'],
    },
  ],
};
