/**
 * Identity capability: CPS card over PKCS#11, Pro Santé Connect, certificates, TLS identities and XML
 * signatures. See docs/identity-api.md.
 */
export * from './certs';
export * from './pki/igc-sante-profile';
export * from './pki/test-ca';
export * from './signing/signer';
export * from './signing/xml-signature';
export * from './tls/trust-store';
export * from './tls/engine';
