/**
 * Saved flows outlive releases: each node stores a `version` in its config,
 * and a list of steps brings an old config up to date when the node starts.
 */
export interface Migration<C> {
  /** The version this step produces. */
  version: number;
  up: (config: C & Record<string, unknown>) => C & Record<string, unknown>;
  /** Applied to a config of this version or newer too (it only fills in what is missing). */
  always?: boolean;
}

export function migrate<C extends { version?: number }>(config: C, migrations: Migration<C>[]): C {
  let current = { ...config } as C & Record<string, unknown>;
  const from = typeof current.version === 'number' ? current.version : 0;
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.version > from) current = { ...step.up(current), version: step.version };
    else if (step.always) current = step.up(current);
  }
  return current;
}

/**
 * The first step of every node: flows saved before settings were versioned
 * get the defaults for missing fields, and numbers or booleans the editor
 * stored as text become real numbers and booleans. It runs on every config,
 * whatever its version: a flow written by hand (or from a document) that says
 * its version but leaves a field out gets the default, not a TypeError at
 * its first message.
 */
export function withDefaults<C>(defaults: Record<string, unknown>): Migration<C> {
  return {
    version: 1,
    always: true,
    up: (c) => {
      const out: Record<string, unknown> = { ...defaults, ...c };
      for (const [key, value] of Object.entries(defaults)) {
        if (typeof value === 'number') out[key] = Number(out[key] === '' ? value : out[key]);
        if (typeof value === 'boolean') out[key] = out[key] === true || out[key] === 'true';
      }
      return out as C & Record<string, unknown>;
    },
  };
}
