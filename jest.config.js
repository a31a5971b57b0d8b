// Jest configuration: TypeScript tests through ts-jest (type checking is done once by `npm run typecheck`).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // oauth4webapi (the token client's protocol library) ships ESM only. Node loads it with require(esm),
    // but jest's CommonJS runtime cannot (before Node 24.9), so jest compiles it to CommonJS.
    '/node_modules/oauth4webapi/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!oauth4webapi/)'],
  // Checks once whether PostgreSQL and Redis answer; without them their suites skip, and the run says so in one line.
  globalSetup: '<rootDir>/test/support/services-setup.js',
  testTimeout: 20000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
