import { X509Certificate } from 'node:crypto';
import * as xmldom from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';
import * as xmldsigjs from 'xmldsigjs';
import xpath from 'xpath';
import { AppError } from '../../core/errors';
import { parseXml } from '../../xml/safe-xml';
import type { TrustStore } from '../tls/trust-store';
import { certInfo, type CertInfo } from '../certs';
import type { DigestName, XmlSigner } from './signer';

/**
 * XML signatures for the DMP and others: enveloped XMLDSig with exclusive canonicalisation (VIHF SAML
 * assertion), XAdES-BES (enveloped, or IHE DSG style over a Manifest of detached items). Built on xadesjs /
 * xmldsigjs; every input is first checked by `parseXml` (no DTD, no entities).
 */

export const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#';
export const NS_XADES = 'http://uri.etsi.org/01903/v1.3.2#';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

let depsSet = false;
function ensureDeps(): void {
  if (depsSet) return;
  xadesjs.setNodeDependencies({ DOMParser: xmldom.DOMParser, XMLSerializer: xmldom.XMLSerializer, DOMImplementation: xmldom.DOMImplementation, xpath });
  depsSet = true;
}

/** xmldsigjs keeps its WebCrypto engine in a global: signatures with different engines are serialised. */
let queue: Promise<unknown> = Promise.resolve();
function withEngine<T>(crypto: Crypto, fn: () => Promise<T>): Promise<T> {
  const next = queue.then(async () => {
    ensureDeps();
    xadesjs.Application.setEngine('lps', crypto);
    return fn();
  });
  queue = next.catch(() => undefined);
  return next;
}

export interface EnvelopedOptions {
  /** '' (default: the whole document) or '#id' of the element to sign. */
  referenceUri?: string;
  /** Where ds:Signature goes: right after this child of the signed element (e.g. saml2:Issuer); default: its last child. */
  insertAfter?: { namespaceURI: string; localName: string };
  /** Digest and signature hash. Default SHA-256 (the DMP's algorithm is unconfirmed: keep it configurable). */
  digest?: DigestName;
  /** Put the intermediates in X509Data too (default true). */
  includeChain?: boolean;
  /** Id of the ds:Signature element. */
  signatureId?: string;
}

export interface XadesOptions extends EnvelopedOptions {
  signingTime?: Date;
}

const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

/** Enveloped XMLDSig, exclusive c14n, RSA-SHA256 (or SHA-1), KeyInfo/X509Data. Returns the signed document. */
export async function signXmlEnveloped(xml: string, signer: XmlSigner, opts: EnvelopedOptions = {}): Promise<string> {
  return signInternal(xml, signer, opts, false);
}

/** XAdES-BES enveloped signature: SigningTime, SigningCertificate, SignaturePolicyImplied. */
export async function signXades(xml: string, signer: XmlSigner, opts: XadesOptions = {}): Promise<string> {
  return signInternal(xml, signer, opts, true);
}

async function signInternal(xml: string, signer: XmlSigner, opts: XadesOptions, xades: boolean): Promise<string> {
  parseXml(xml, 'document à signer');
  const hash = opts.digest ?? 'SHA-256';
  const uri = opts.referenceUri ?? '';
  return withEngine(signer.crypto, async () => {
    const doc = xadesjs.Parse(xml);
    const target = uri === '' ? doc.documentElement : findById(doc, uri.replace(/^#/, ''));
    if (!target) throw new AppError('SIGN_TARGET_MISSING', "L'élément à signer est introuvable dans le document.", `no element with id ${uri}`);
    // Plain XMLDSig must not carry XAdES properties: xadesjs always adds them, so use xmldsigjs for it.
    const signed = xades ? new xadesjs.SignedXml(doc) : new xmldsigjs.SignedXml(doc);
    signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;
    if (opts.signatureId) signed.XmlSignature.Id = opts.signatureId;
    const key = await signer.privateKey(hash);
    const chain = opts.includeChain === false ? signer.certificateChain.slice(0, 1) : signer.certificateChain;
    const leaf = signer.certificateChain[0];
    if (!leaf) throw new AppError('SIGN_NO_CERTIFICATE', "Aucun certificat n'est associé à la clé de signature.", 'empty chain');
    await signed.Sign({ name: 'RSASSA-PKCS1-v1_5' } as Algorithm, key, doc, {
      x509: chain.map(b64),
      references: [{ uri, hash, transforms: ['enveloped', 'exc-c14n'] }],
      ...(xades
        ? {
            signingCertificate: b64(leaf),
            signingTime: { value: opts.signingTime ?? new Date() },
            policy: true,
          }
        : {}),
    } as xadesjs.OptionsXAdES);
    const sigEl = signed.GetXml();
    if (!sigEl) throw new Error('xadesjs produced no signature');
    placeSignature(target, sigEl as unknown as Element, opts.insertAfter);
    return new xmldom.XMLSerializer().serializeToString(doc as never);
  });
}

/**
 * IHE DSG style XAdES: a standalone ds:Signature document whose SignedInfo references `#IHEManifest`, a
 * ds:Manifest in a ds:Object listing each detached item (`urn:oid:<uniqueId>`) with its SHA digest, plus the
 * XAdES SignedProperties. This is the shape the DMP expects for the submission-set signature (dmp.md).
 */
export async function signXadesManifest(items: { uri: string; data: Uint8Array }[], signer: XmlSigner, opts: { digest?: DigestName; signingTime?: Date; signatureId?: string } = {}): Promise<string> {
  if (items.length === 0) throw new AppError('SIGN_NOTHING', 'Aucun élément à signer.', 'empty manifest');
  const hash = opts.digest ?? 'SHA-256';
  const digestUri = hash === 'SHA-1' ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256';
  const refs: string[] = [];
  for (const item of items) {
    const digest = Buffer.from(await signer.crypto.subtle.digest(hash, new Uint8Array(item.data))).toString('base64');
    refs.push(`<ds:Reference URI="${escapeAttr(item.uri)}"><ds:DigestMethod Algorithm="${digestUri}"/><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`);
  }
  const sigId = opts.signatureId ?? 'signature-' + Date.now().toString(36);
  // The Manifest is built in a holder document first, signed by reference, then moved into ds:Object.
  const holder = `<ds:Object xmlns:ds="${NS_DSIG}"><ds:Manifest Id="IHEManifest">${refs.join('')}</ds:Manifest></ds:Object>`;
  return withEngine(signer.crypto, async () => {
    const doc = xadesjs.Parse(holder);
    const signed = new xadesjs.SignedXml(doc);
    signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;
    signed.XmlSignature.Id = sigId;
    const leaf = signer.certificateChain[0];
    if (!leaf) throw new AppError('SIGN_NO_CERTIFICATE', "Aucun certificat n'est associé à la clé de signature.", 'empty chain');
    await signed.Sign({ name: 'RSASSA-PKCS1-v1_5' } as Algorithm, await signer.privateKey(hash), doc, {
      x509: signer.certificateChain.map(b64),
      references: [{ uri: '#IHEManifest', type: 'http://www.w3.org/2000/09/xmldsig#Manifest', hash, transforms: ['exc-c14n'] }],
      signingCertificate: b64(leaf),
      signingTime: { value: opts.signingTime ?? new Date() },
      policy: true,
    } as xadesjs.OptionsXAdES);
    const sigEl = signed.GetXml() as unknown as Element | null;
    if (!sigEl) throw new Error('xadesjs produced no signature');
    // Move the signed ds:Object (Manifest) into the signature, which becomes the document.
    const out = xadesjs.Parse(new xmldom.XMLSerializer().serializeToString(sigEl as never));
    const object = out.importNode(doc.documentElement, true);
    out.documentElement.appendChild(object);
    return new xmldom.XMLSerializer().serializeToString(out as never);
  });
}

export interface VerifyResult {
  valid: boolean;
  /** The certificate that made the signature. */
  signer?: CertInfo;
  /** Reference URIs the signature covers ('' = whole document): callers check they cover what they expect. */
  references: string[];
  xades: boolean;
  reason?: string;
}

/**
 * Verifies the first (or the given) ds:Signature: references and signature value with the leaf certificate
 * of its X509Data, then — with a trust store — the certificate chain, its validity at `at` and revocation.
 */
export async function verifyXmlSignature(xml: string, opts: { trust?: TrustStore; at?: Date; signatureIndex?: number } = {}): Promise<VerifyResult> {
  parseXml(xml, 'document signé');
  const webcrypto = globalThis.crypto as Crypto;
  return withEngine(webcrypto, async () => {
    const doc = xadesjs.Parse(xml);
    const sigs = doc.getElementsByTagNameNS(NS_DSIG, 'Signature');
    const sigEl = sigs[opts.signatureIndex ?? 0];
    if (!sigEl) return { valid: false, references: [], xades: false, reason: 'no ds:Signature' };
    const signed = new xadesjs.SignedXml(doc);
    signed.LoadXml(sigEl);
    const references = signed.XmlSignature.SignedInfo.References.Map((r) => r.Uri ?? "").GetIterator();
    const xades = sigEl.getElementsByTagNameNS(NS_XADES, 'SignedProperties').length > 0;
    const certs = Array.from(sigEl.getElementsByTagNameNS(NS_DSIG, 'X509Certificate')).map((n) => new X509Certificate(Buffer.from((n.textContent ?? '').replace(/\s+/g, ''), 'base64')));
    const leaf = certs.find((c) => !certs.some((o) => o !== c && o.checkIssued(c)));
    if (!leaf) return { valid: false, references, xades, reason: 'no signer certificate in KeyInfo' };
    const alg = signed.XmlSignature.SignedInfo.SignatureMethod.Algorithm;
    const hash = /sha1$/i.test(alg) ? 'SHA-1' : /sha512$/i.test(alg) ? 'SHA-512' : /sha384$/i.test(alg) ? 'SHA-384' : 'SHA-256';
    const key = await webcrypto.subtle.importKey('spki', leaf.publicKey.export({ type: 'spki', format: 'der' }), { name: 'RSASSA-PKCS1-v1_5', hash }, true, ['verify']);
    let ok: boolean;
    try {
      // The Manifest of an IHE DSG signature lives in a ds:Object: the signature element is its own content.
      const isStandalone = doc.documentElement === sigEl;
      ok = await signed.Verify(isStandalone ? { key, content: sigEl } : key);
    } catch (err) {
      return { valid: false, signer: certInfo(leaf), references, xades, reason: (err as Error).message };
    }
    if (!ok) return { valid: false, signer: certInfo(leaf), references, xades, reason: 'signature or digest mismatch' };
    if (opts.trust) {
      try {
        await opts.trust.check([leaf, ...certs.filter((c) => c !== leaf)].map((c) => c.toString()), opts.at);
      } catch (err) {
        return { valid: false, signer: certInfo(leaf), references, xades, reason: err instanceof AppError ? `${err.code}: ${err.detail ?? err.message}` : (err as Error).message };
      }
    }
    return { valid: true, signer: certInfo(leaf), references, xades };
  });
}

/**
 * Checks the detached items of an IHE DSG manifest signature against their data (the signature itself is
 * checked by `verifyXmlSignature`, which covers the Manifest through its digest). Returns the URIs that are
 * missing or whose digest differs; empty = every item matches.
 */
export async function verifyManifestItems(signatureXml: string, items: { uri: string; data: Uint8Array }[]): Promise<string[]> {
  const doc = parseXml(signatureXml, 'signature');
  const manifests = doc.getElementsByTagNameNS(NS_DSIG, 'Manifest');
  const manifest = manifests[0];
  if (!manifest) return items.map((i) => i.uri);
  const refs = new Map<string, { alg: string; value: string }>();
  const refEls = manifest.getElementsByTagNameNS(NS_DSIG, 'Reference');
  for (let i = 0; i < refEls.length; i++) {
    const r = refEls[i]!;
    const alg = r.getElementsByTagNameNS(NS_DSIG, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '';
    const value = (r.getElementsByTagNameNS(NS_DSIG, 'DigestValue')[0]?.textContent ?? '').replace(/\s+/g, '');
    refs.set(r.getAttribute('URI') ?? '', { alg, value });
  }
  const bad: string[] = [];
  for (const item of items) {
    const ref = refs.get(item.uri);
    if (!ref) {
      bad.push(item.uri);
      continue;
    }
    const hash = /sha1$/.test(ref.alg) ? 'sha1' : /sha512$/.test(ref.alg) ? 'sha512' : 'sha256';
    const digest = (await import('node:crypto')).createHash(hash).update(item.data).digest('base64');
    if (digest !== ref.value) bad.push(item.uri);
  }
  if (refs.size !== items.length) for (const uri of refs.keys()) if (!items.some((i) => i.uri === uri)) bad.push(uri);
  return bad;
}

function findById(doc: Document, id: string): Element | undefined {
  const all = doc.getElementsByTagName('*');
  for (let i = 0; i < all.length; i++) {
    const el = all[i]!;
    if (el.getAttribute('ID') === id || el.getAttribute('Id') === id || el.getAttribute('id') === id) return el;
  }
  return undefined;
}

function placeSignature(target: Element, sig: Element, after?: { namespaceURI: string; localName: string }): void {
  if (after) {
    for (let n = target.firstChild; n; n = n.nextSibling) {
      const el = n as Element;
      if (n.nodeType === 1 && el.localName === after.localName && el.namespaceURI === after.namespaceURI) {
        target.insertBefore(sig, n.nextSibling);
        return;
      }
    }
    throw new AppError('SIGN_TARGET_MISSING', "L'emplacement de la signature est introuvable dans le document.", `no child ${after.localName} in the signed element`);
  }
  target.appendChild(sig);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
