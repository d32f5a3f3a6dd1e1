import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { AppError } from '../../core/errors';
import { readP12 } from '../signing/signer';
import { DEFAULT_ENGINE_PATH, pkcs11KeyUri } from './engine';
import type { TrustStore } from './trust-store';

/**
 * A TLS client identity, whatever holds the key. Plain Node: `.p12` software certificates (structure ORG
 * certificates) and the card key through the OpenSSL pkcs11 engine. Electron (BoringSSL, no engines): the
 * card goes through Chromium's network stack and `select-client-certificate` — see docs/identity-api.md.
 */
export interface TlsIdentity {
  kind: 'p12' | 'pkcs11-engine' | 'electron-os-store';
  /** For messages and traces (never secret). */
  label: string;
  /** The client certificate presented (PEM leaf). */
  certificatePem(): string;
  /** Node TLS options carrying the client certificate and key (not used by the Electron kind). */
  tlsOptions(): tls.ConnectionOptions;
}

export function p12TlsIdentity(p12: string | Buffer, password: string): TlsIdentity {
  const der = typeof p12 === 'string' ? fs.readFileSync(p12) : p12;
  const material = readP12(der, password); // validates the password with a specific error
  return {
    kind: 'p12',
    label: material.friendlyName ?? 'certificat logiciel',
    certificatePem: () => material.chainPem[0]!,
    tlsOptions: () => ({ key: material.privateKeyPem, cert: material.chainPem.join('') }),
  };
}

export interface Pkcs11EngineIdentityOptions {
  module: string;
  tokenLabel: string;
  keyIdHex: string;
  /** Only kept in memory by this object; passed to the engine in the key URI. */
  pin: string;
  /** Leaf certificate PEM (read from the card) and the intermediates to send. */
  certPem: string;
  chainPem?: string[];
  enginePath?: string;
  /** Extra environment for the module (SOFTHSM2_CONF for the sandbox token). */
  env?: Record<string, string>;
}

/** The card key through the OpenSSL pkcs11 engine (libp11): plain Node only. */
export function pkcs11EngineTlsIdentity(o: Pkcs11EngineIdentityOptions): TlsIdentity {
  if (process.versions.electron) {
    throw new AppError('TLS_ENGINE_UNAVAILABLE', "L'authentification par carte CPS passe par le navigateur intégré dans l'application de bureau.", 'OpenSSL engines are not available in Electron (BoringSSL)');
  }
  const enginePath = o.enginePath ?? DEFAULT_ENGINE_PATH;
  if (!fs.existsSync(enginePath)) {
    throw new AppError('TLS_ENGINE_MISSING', "Le module OpenSSL pour carte à puce (pkcs11) n'est pas installé.", `missing ${enginePath} (Debian: libengine-pkcs11-openssl)`);
  }
  // libp11 reads the module path from PKCS11_MODULE_PATH; SoftHSM its configuration from SOFTHSM2_CONF.
  process.env.PKCS11_MODULE_PATH = o.module;
  for (const [k, v] of Object.entries(o.env ?? {})) process.env[k] = v;
  return {
    kind: 'pkcs11-engine',
    label: `carte ${o.tokenLabel}`,
    certificatePem: () => o.certPem,
    tlsOptions: () => ({
      privateKeyEngine: enginePath,
      privateKeyIdentifier: pkcs11KeyUri({ tokenLabel: o.tokenLabel, keyIdHex: o.keyIdHex, pin: o.pin }),
      cert: [o.certPem, ...(o.chainPem ?? [])].join(''),
    }),
  };
}

/** Node TLS options: the trust store (verification always on) plus the client identity, if any. */
export function tlsConnectOptions(trust: TrustStore, identity?: TlsIdentity): tls.ConnectionOptions {
  return { ...trust.tlsOptions(), ...(identity ? identity.tlsOptions() : {}), minVersion: 'TLSv1.2' };
}

export function httpsAgent(trust: TrustStore, identity?: TlsIdentity, opts: https.AgentOptions = {}): https.Agent {
  return new https.Agent({ keepAlive: true, ...opts, ...(tlsConnectOptions(trust, identity) as https.AgentOptions) });
}
