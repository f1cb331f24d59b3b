export { Keyward, KeysClient, type KeywardOptions, type KeyPatch, type KeyFilters, type CallFilters, type VerifyOptions, type RootKeySpec } from './client';
export * from './errors';
export type { ApiKey, CreatedKey, VerifyResponse, VerifyCode, AuditEntry, Call, AuditChainReport } from '../schema';
export { verifyRequest, requestVerifier, keyFromHeaders, refusalFor, type VerifyRequestOptions, type VerifyRequestResult, type Refusal, type IncomingRequestLike } from './verify-request';
export { signRequest, signatureHeaders, type SigningCredentials } from './signing';
