/**
 * Saved flows outlive releases: each node stores a `version` in its config,
 * and a list of steps brings an old config up to date when the node starts.
 */
export interface Migration<C> {
  /** The version this step produces. */
  version: number;
  up: (config: C & Record<string, unknown>) => C & Record<string, unknown>;
}

export function migrate<C extends { version?: number }>(config: C, migrations: Migration<C>[]): C {
  let current = { ...config } as C & Record<string, unknown>;
  const from = typeof current.version === 'number' ? current.version : 0;
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.version > from) current = { ...step.up(current), version: step.version };
  }
  return current;
}
