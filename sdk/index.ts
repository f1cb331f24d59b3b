export type {
  ApiKey,
  AuditChainReport,
  AuditEntry,
  Call,
  CreatedKey,
  EventKey,
  EventType,
  KeyBatchResult,
  LeakReport,
  VerifyCode,
  VerifyResponse,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEvent,
  WebhookWithSecret,
  WorkspaceSettings,
} from '../schema';
export {
  ApiKeysClient,
  type CallFilters,
  type DeliveryFilters,
  type KeyFilters,
  type KeyPatch,
  KeysClient,
  Keyward,
  type KeywardOptions,
  type ReportLeakInput,
  type RootKeySpec,
  SettingsClient,
  type SettingsPatch,
  type VerifyOptions,
  type WebhookPatch,
  type WebhookSpec,
  WebhooksClient,
} from './client';
export * from './errors';
export { generateKey } from './keys';
export { type SigningCredentials, signatureHeaders, signRequest } from './signing';
export {
  type IncomingRequestLike,
  keyFromHeaders,
  type Refusal,
  refusalFor,
  requestVerifier,
  type VerifyRequestOptions,
  type VerifyRequestResult,
  verifyRequest,
} from './verify-request';
export {
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_VERIFICATION_CODES,
  type WebhookHeaders,
  type WebhookVerificationCode,
  WebhookVerificationError,
} from './webhooks';
