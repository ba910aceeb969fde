/**
 * Answers a device-code poll: an external provider's client POSTs to the same `/auth/provider/{p}/token`
 * path as the password grant, so AuthnController takes the request and hands it to the external-login
 * module, which provides this token (absent, the route answers 404 for external providers).
 */
export interface DeviceCodePoller {
  pollDeviceCode(provider: string, deviceCode: string | undefined): Promise<unknown>;
}

export const DEVICE_CODE_POLLER = Symbol('DeviceCodePoller');
