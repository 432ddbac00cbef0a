import { dropTestDatabases, testEngine } from './helpers/test-database';

// The PostgreSQL run makes a database per test server: each test file drops its own at the end.
if (testEngine === 'postgres') afterAll(() => dropTestDatabases());
