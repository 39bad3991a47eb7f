import { resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(__dirname, '..', '..');
/** Data and tools that live beside the checkout (models, clips, fixtures). */
export const SHARED = process.env.VOICE_SHARED_DIR ?? resolve(ROOT, '..', 'shared');
export const SHARED_MODELS = resolve(SHARED, 'models');
export const TESTDATA = resolve(SHARED_MODELS, 'testdata');
