/** Jest runs the TypeScript unit tests in src/__tests__ under jsdom via ts-jest. */

// ES modules the tests load from node_modules: marked (the parser JupyterLab uses, a dev
// dependency), JupyterLab's math handling for Markdown, its HTML sanitizer, and the
// notebook's shared model (`YNotebook`, for the agent's executor and undo).
const ES_MODULES = [
  'marked/',
  '@jupyterlab/rendermime/lib/latex',
  '@jupyterlab/apputils/lib/sanitizer',
  '@jupyter/ydoc/'
];

module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/src/__tests__/**/*.spec.ts'],
  setupFiles: ['<rootDir>/jest.setup.js'],
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', types: ['jest'] } }
    ],
    '/node_modules/.+\\.js$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', allowJs: true }, isolatedModules: true }
    ]
  },
  transformIgnorePatterns: [`/node_modules/(?!${ES_MODULES.join('|')})`],
  moduleNameMapper: {
    '^marked$': '<rootDir>/node_modules/marked/lib/marked.esm.js'
  },
  collectCoverageFrom: ['src/**/*.ts', '!src/**/__tests__/**'],
  coverageReporters: ['text-summary', 'lcov']
};
