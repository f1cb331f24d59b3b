export type { ApiKey, AuditChainReport, AuditEntry, Call, CreatedKey, VerifyCode, VerifyResponse } from '../schema';
export {
  type CallFilters,
  type KeyFilters,
  type KeyPatch,
  KeysClient,
  Keyward,
  type KeywardOptions,
  type RootKeySpec,
  type VerifyOptions,
} from './client';
export * from './errors';
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
