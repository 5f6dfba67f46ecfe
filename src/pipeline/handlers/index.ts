/**
 * The built-in handlers, registered explicitly (no folder scanning). Order matters only
 * in that all of them run in one transaction per event.
 */
import type { Handler } from '../types.ts';

export function builtinHandlers(): Handler[] {
  return [];
}
