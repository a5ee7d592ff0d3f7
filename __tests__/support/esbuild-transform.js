// Jest's TypeScript transform: esbuild strips the types of each file (CommonJS, Node 20 syntax,
// a source map for stack traces). Type checking is `npm run typecheck`'s job, not the tests'.
const { transformSync, version } = require('esbuild');

/** @type {import('@jest/transform').SyncTransformer} */
module.exports = {
  canInstrument: false,
  getCacheKey(source, path, options) {
    return require('node:crypto')
      .createHash('sha256')
      .update(version)
      .update('\0')
      .update(path)
      .update('\0')
      .update(options.configString)
      .update('\0')
      .update(source)
      .digest('hex');
  },
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'node20',
      platform: 'node',
      // Jest runs CommonJS without Node's ESM loader: `import()` becomes a `require()`, as tsc
      // emits it for CommonJS.
      supported: { 'dynamic-import': false },
      sourcefile: path,
      sourcemap: 'external',
      sourcesContent: false,
    });
    return { code, map };
  },
};
