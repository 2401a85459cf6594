/** Jest runs the TypeScript unit tests in src/__tests__ under jsdom via ts-jest. */
module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/src/__tests__/**/*.spec.ts'],
  setupFiles: ['<rootDir>/jest.setup.js'],
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', types: ['jest'] } }
    ]
  },
  collectCoverageFrom: ['src/**/*.ts', '!src/**/__tests__/**'],
  coverageReporters: ['text-summary', 'lcov']
};
