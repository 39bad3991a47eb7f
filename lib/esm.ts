/**
 * Loads an ESM-only package from our CommonJS build. TypeScript compiles a
 * plain `import()` to `require()` under CommonJS, which cannot load ESM on
 * Node 20; a Function keeps the real dynamic import.
 */
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
