// The postgres project's test files run with the PostgreSQL engine (see test/helpers/test-database.ts).
process.env.DESKFORGE_TEST_ENGINE = 'postgres';
