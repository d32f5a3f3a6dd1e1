import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import forge from 'node-forge';
import { AppError } from '../../core/errors';

export type DigestName = 'SHA-256' | 'SHA-1';

/**
 * What the XML signature services need from a key holder: a WebCrypto implementation able to use the key
 * (Node's for software keys, node-webcrypto-p11 for a key on a card) and the certificate chain, leaf first.
 */
export interface XmlSigner {
  /** For messages and traces (never secret): e.g. "ORG SIGN CABINET…" or "CPS DURAND Claire". */
  label: string;
  crypto: Crypto;
  /** The private key usable with RSASSA-PKCS1-v1_5 and the given digest (WebCrypto binds the hash to the key). */
  privateKey(hash: DigestName): Promise<CryptoKey>;
  /** DER certificates, leaf first, then intermediates (no root needed). */
  certificateChain: Uint8Array[];
}

export interface SoftwareKeyMaterial {
  privateKeyPem: string;
  /** PEM certificates, leaf first. */
  chainPem: string[];
  friendlyName?: string;
}

/** Reads a PKCS#12 (.p12/.pfx): the private key, its certificate and the chain it carries. */
export function readP12(p12: Buffer | string, password: string): SoftwareKeyMaterial {
  const der = typeof p12 === 'string' ? readFileOr(p12) : p12;
  let parsed: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    parsed = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    if (/mac|password|invalid/i.test(msg)) {
      throw new AppError('P12_BAD_PASSWORD', 'Le mot de passe du certificat logiciel (.p12) est incorrect.', `PKCS#12: ${msg}`);
    }
    throw new AppError('P12_INVALID', "Le fichier de certificat logiciel (.p12) est illisible ou n'est pas au format PKCS#12.", `PKCS#12: ${msg}`);
  }
  const keyBags = [
    ...(parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(parsed.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  const certBags = parsed.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const keyBag = keyBags.find((b) => b.key);
  if (!keyBag?.key) throw new AppError('P12_INVALID', 'Le certificat logiciel (.p12) ne contient pas de clé privée.', 'no key bag');
  const privateKeyPem = crypto.createPrivateKey(forge.pki.privateKeyToPem(keyBag.key)).export({ type: 'pkcs8', format: 'pem' }).toString();
  const certs = certBags.filter((b) => b.cert).map((b) => forge.pki.certificateToPem(b.cert!));
  const keyObject = crypto.createPrivateKey(privateKeyPem);
  const leafIndex = certs.findIndex((pem) => new X509Certificate(pem).checkPrivateKey(keyObject));
  if (leafIndex < 0) throw new AppError('P12_INVALID', 'Le certificat logiciel (.p12) ne contient pas le certificat de sa clé.', 'no certificate matches the key');
  const leaf = certs[leafIndex]!;
  const rest = certs.filter((_, i) => i !== leafIndex);
  const friendly = keyBag.attributes?.friendlyName?.[0] as string | undefined;
  return { privateKeyPem, chainPem: [leaf, ...orderChain(leaf, rest)], ...(friendly ? { friendlyName: friendly } : {}) };
}

/** Intermediates ordered from the leaf's issuer upwards; self-signed roots dropped (the verifier has them). */
function orderChain(leafPem: string, others: string[]): string[] {
  const pool = others.map((p) => new X509Certificate(p));
  const out: string[] = [];
  let current = new X509Certificate(leafPem);
  for (let i = 0; i < 8; i++) {
    const issuer = pool.find((c) => current.checkIssued(c) && c.fingerprint256 !== current.fingerprint256);
    if (!issuer || issuer.checkIssued(issuer)) break;
    out.push(issuer.toString());
    current = issuer;
  }
  return out;
}

function readFileOr(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new AppError('P12_NOT_FOUND', `Le fichier de certificat logiciel est introuvable : ${file}`, (err as Error).message);
  }
}

/** A signer over a software key (Node's WebCrypto). */
export function softwareSigner(material: SoftwareKeyMaterial, label?: string): XmlSigner {
  const pkcs8 = crypto.createPrivateKey(material.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  const webcrypto = globalThis.crypto as Crypto;
  const leaf = new X509Certificate(material.chainPem[0]!);
  return {
    label: label ?? material.friendlyName ?? leaf.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'certificat logiciel',
    crypto: webcrypto,
    privateKey: (hash) => webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']),
    certificateChain: material.chainPem.map((p) => new Uint8Array(new X509Certificate(p).raw)),
  };
}

/** The structure's ORG signature certificate (or any .p12) as an XML signer. */
export function signerFromP12(p12: Buffer | string, password: string): XmlSigner {
  return softwareSigner(readP12(p12, password));
}
