/**
 * The built-in handlers, registered explicitly (no folder scanning). All of them run in
 * the one transaction per event that also advances the key's cursor.
 */
import type { Handler } from '../types.ts';
import { lifecycleHandler } from './lifecycle.ts';
import { streamHandler } from './stream.ts';
import { xrefHandler } from './xref.ts';
import { subscriptionFanout } from '../subscriptions/fanout.ts';

export interface BuiltinOptions {
  /** stream canonical events and lifecycle changes to NATS JetStream through the outbox */
  stream?: boolean;
}

export function builtinHandlers(o: BuiltinOptions = {}): Handler[] {
  // fan-out always runs: deliveries to disabled endpoints or from processes that do not deliver are kept for later
  const hs: Handler[] = [xrefHandler, lifecycleHandler({ announce: !!o.stream }), subscriptionFanout];
  if (o.stream) hs.push(streamHandler);
  return hs;
}
