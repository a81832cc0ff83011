/**
 * Structure rules checked by `npm run check` (dependency-cruiser). Type-only imports count: a cycle of types is
 * still a cycle of modules that cannot be understood one at a time.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules must form a directed acyclic graph; shared contracts go to a module both sides import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'src/core is the pure core: no adapters, no Node I/O modules.',
      from: { path: '^src/core/' },
      to: { path: ['^src/(?!core/)', '^node:(fs|net|http|https|child_process|worker_threads|dgram|tls)'] },
    },
    {
      name: 'api-does-not-wire',
      severity: 'error',
      comment: 'The HTTP layer receives its services; it never imports the composition root.',
      from: { path: '^src/api/' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
