/**
 * The built-in handlers, registered explicitly (no folder scanning). All of them run in
 * the one transaction per event that also advances the key's cursor.
 */
import type { Handler } from '../types.ts';
import { lifecycleHandler } from './lifecycle.ts';
import { streamHandler } from './stream.ts';
import { xrefHandler } from './xref.ts';

export interface BuiltinOptions {
  /** stream canonical events and lifecycle changes to NATS JetStream through the outbox */
  stream?: boolean;
}

export function builtinHandlers(o: BuiltinOptions = {}): Handler[] {
  const hs: Handler[] = [xrefHandler, lifecycleHandler({ announce: !!o.stream })];
  if (o.stream) hs.push(streamHandler);
  return hs;
}
