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
export * from './tls/identity';
export * from './card/card-service';
export * from './card/holder';
export * from './card/pin-state';
export * from './card/pkcs11-module';
export * from './card/softhsm';
export * from './psc/psc-client';
export * from './psc/userinfo';
export * from './psc/psc-profile';
