export * from './errors';
export * from './common';
export * from './scopes';
export * from './cidr';
export * from './keys';
export * from './verify';
export * from './audit';
export * from './calls';
