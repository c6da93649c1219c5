// The dependency rule (docs/development.md): imports point one way, from the composition root and the
// commands down to the shared contracts and helpers. No module may import one that imports it back, and no
// folder may import a folder that imports it back. `npm run deps` checks it; `npm run check` runs it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module imports a module that (through others) imports it back.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'A folder imports a folder that (through others) imports it back.',
      scope: 'folder',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle of types is still a cycle between the folders.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
