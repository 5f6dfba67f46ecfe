/**
 * The WMS connector: a profile (profile.ts), the HTTP client (client.ts) and the mappers
 * put together. `WmsConnector` runs one outbound operation end to end: canonical input →
 * request through the profile → the WMS → canonical result through the profile.
 */
import { WmsClient, type WmsTransport } from './client.ts';
import { buildRequest, mapResponse, type OperationInputs, type WmsRequest } from './mappers.ts';
import { builtinProfilePath, loadProfile, type OperationName, type Profile } from './profile.ts';

export { wmsManifest, WmsConfigSchema, type WmsConfig } from './manifest.ts';
export { loadProfile, parseProfile, ProfileError, builtinProfilePath, OPERATIONS, type Profile, type OperationName } from './profile.ts';
export { buildRequest, mapInbound, mapResponse, type WmsRequest, type CanonicalEvent, type InboundResult } from './mappers.ts';
export { WmsClient } from './client.ts';
export { WMS_ERROR_TABLE, classifyWmsFailure, wmsError } from './errors.ts';
export { wmsWebhookMapper, verifyWmsSignature, partnerSettings, mapDelivery } from './webhook.ts';

export interface WmsConnectorOptions {
  profile: Profile;
  transport: WmsTransport;
  /** overrides of the profile's constants */
  constants?: Record<string, string | number | boolean>;
}

/** The result of one operation: the request sent, the HTTP status and the canonical result. */
export interface WmsCallResult {
  request: WmsRequest;
  status: number;
  result: unknown;
}

export class WmsConnector {
  readonly profile: Profile;
  readonly #transport: WmsTransport;
  readonly #constants: Record<string, string | number | boolean>;

  constructor(o: WmsConnectorOptions) {
    this.profile = o.profile;
    this.#transport = o.transport;
    this.#constants = o.constants ?? {};
  }

  /** Builds a connector from its configuration values and the API key. */
  static fromConfig(c: { baseUrl: string; profile: string; apiKey: string; timeoutMs?: number; constants?: Record<string, string | number | boolean> }): WmsConnector {
    const profile = loadProfile(/^[a-z][a-z0-9_-]*$/.test(c.profile) ? builtinProfilePath(c.profile) : c.profile);
    const transport = new WmsClient({ baseUrl: c.baseUrl, apiKey: c.apiKey, auth: profile.auth, ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}) });
    return new WmsConnector({ profile, transport, ...(c.constants ? { constants: c.constants } : {}) });
  }

  /** Runs one operation; HubErrors from validation, mapping or the WMS propagate. */
  async call<O extends OperationName>(operation: O, input: OperationInputs[O]): Promise<WmsCallResult> {
    const request = await buildRequest(this.profile, operation, input, this.#constants);
    const answer = await this.#transport.send(request);
    const result = await mapResponse(this.profile, operation, input, answer.json, this.#constants);
    return { request, status: answer.status, result };
  }

  release(input: OperationInputs['release']): Promise<WmsCallResult> {
    return this.call('release', input);
  }
  cancel(input: OperationInputs['cancel']): Promise<WmsCallResult> {
    return this.call('cancel', input);
  }
  updateShipTo(input: OperationInputs['updateShipTo']): Promise<WmsCallResult> {
    return this.call('updateShipTo', input);
  }
  attachLabels(input: OperationInputs['attachLabels']): Promise<WmsCallResult> {
    return this.call('attachLabels', input);
  }
  getInventory(input: OperationInputs['getInventory']): Promise<WmsCallResult> {
    return this.call('getInventory', input);
  }
}
