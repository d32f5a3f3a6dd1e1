import crypto, { X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { parseXml } from '../xml/safe-xml';
import { NS } from './protocol';
import { WIRE_PROFILE } from './wire-profile';
import { attr, child, children, descendant, descendants, esc, text } from './xml-util';

/**
 * XMLDSig for the VIHF (enveloped signature after the Issuer) and XAdES for the submission set
 * (enveloping signature over the `#IHEManifest` manifest and the XAdES SignedProperties).
 *
 * Adapter note: the identity capability signs with a CPS card or a .p12 through WebCrypto (xadesjs). Until a
 * pluggable signer is exported there, this module signs with a PEM key (software ORG certificate, sandbox) and
 * verifies with xml-crypto — an independent implementation, which also cross-checks the identity module's
 * signatures. Every input is pre-checked by `parseXml` (no DTD/entities) before xml-crypto sees it.
 */

export interface PemSigner {
  keyPem: string;
  certPem: string;
}

const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** Signs a SAML assertion (root element with `ID`): ds:Signature inserted right after saml2:Issuer. */
export function signAssertion(assertionXml: string, signer: PemSigner): string {
  parseXml(assertionXml, 'VIHF');
  const sig = new SignedXml({
    privateKey: signer.keyPem,
    publicCert: signer.certPem,
    signatureAlgorithm: WIRE_PROFILE.signature.signatureAlgorithm as never,
    canonicalizationAlgorithm: WIRE_PROFILE.signature.canonicalization as never,
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    digestAlgorithm: WIRE_PROFILE.signature.digestAlgorithm as never,
    transforms: [ENVELOPED, WIRE_PROFILE.signature.canonicalization] as never,
  });
  sig.computeSignature(assertionXml, {
    prefix: 'ds',
    location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
  });
  return sig.getSignedXml();
}

export interface SignatureCheck {
  valid: boolean;
  reason?: string;
  cert?: X509Certificate;
  signatureAlgorithm?: string;
}

function certOfSignature(sigEl: import('@xmldom/xmldom').Element): X509Certificate | undefined {
  const b64 = text(descendant(sigEl, NS.ds, 'X509Certificate')).replace(/\s+/g, '');
  if (!b64) return undefined;
  try {
    return new X509Certificate(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

function algorithmsAccepted(sigEl: import('@xmldom/xmldom').Element): string | undefined {
  const sm = attr(descendant(sigEl, NS.ds, 'SignatureMethod'), 'Algorithm') ?? '';
  if (!(WIRE_PROFILE.signature.acceptedSignatureAlgorithms as readonly string[]).includes(sm)) return `signature algorithm not accepted: ${sm}`;
  const signedInfo = child(sigEl, NS.ds, 'SignedInfo');
  for (const dm of signedInfo ? descendants(signedInfo, NS.ds, 'DigestMethod') : []) {
    const a = attr(dm, 'Algorithm') ?? '';
    if (!(WIRE_PROFILE.signature.acceptedDigestAlgorithms as readonly string[]).includes(a)) return `digest algorithm not accepted: ${a}`;
  }
  return undefined;
}

/**
 * Verifies the enveloped signature of a SAML assertion given as its serialized XML: exactly one reference,
 * to the assertion itself, with the enveloped transform; the key is the embedded X509 certificate.
 */
export function verifyAssertionSignature(assertionXml: string): SignatureCheck {
  const doc = parseXml(assertionXml, 'VIHF');
  const root = doc.documentElement!;
  const sigs = children(root, NS.ds, 'Signature');
  if (sigs.length !== 1) return { valid: false, reason: sigs.length ? 'several signatures' : 'no signature' };
  const sigEl = sigs[0]!;
  const bad = algorithmsAccepted(sigEl);
  if (bad) return { valid: false, reason: bad };
  const refs = descendants(child(sigEl, NS.ds, 'SignedInfo')!, NS.ds, 'Reference');
  const id = attr(root, 'ID');
  if (refs.length !== 1 || attr(refs[0], 'URI') !== `#${id}`) return { valid: false, reason: 'the signature must cover the whole assertion' };
  const cert = certOfSignature(sigEl);
  if (!cert) return { valid: false, reason: 'no X509Certificate in KeyInfo' };
  try {
    const v = new SignedXml({ publicCert: cert.toString(), getCertFromKeyInfo: () => null });
    v.loadSignature(sigEl as unknown as Node);
    const ok = v.checkSignature(assertionXml);
    return ok ? { valid: true, cert, signatureAlgorithm: attr(descendant(sigEl, NS.ds, 'SignatureMethod'), 'Algorithm') } : { valid: false, reason: 'signature value or digest mismatch', cert };
  } catch (err) {
    return { valid: false, reason: (err as Error).message, cert };
  }
}

// ---------------------------------------------------------------------------------------------------------
// XAdES of the submission set

export interface ManifestRef {
  /** `urn:oid:<uniqueId>` */
  uri: string;
  digest: Buffer;
}

function digestAlgName(uri: string): string {
  if (uri.endsWith('#sha256')) return 'sha256';
  if (uri.endsWith('#sha1')) return 'sha1';
  if (uri.endsWith('#sha512')) return 'sha512';
  throw new Error(`unsupported digest ${uri}`);
}

export function digestFor(data: Buffer, algUri: string = WIRE_PROFILE.signature.digestAlgorithm): Buffer {
  return crypto.createHash(digestAlgName(algUri)).update(data).digest();
}

/**
 * The XAdES-BES signature of a DMP submission: a ds:Signature (root element) whose SignedInfo references the
 * `#IHEManifest` Manifest (listing the set and each document with its digest) and the SignedProperties.
 */
export function signSubmissionXades(refs: ManifestRef[], signer: PemSigner, signingTime = new Date()): string {
  const alg = WIRE_PROFILE.signature.digestAlgorithm;
  const sigId = `sig-${crypto.randomUUID()}`;
  const cert = new X509Certificate(signer.certPem);
  const manifest =
    `<ds:Manifest Id="${WIRE_PROFILE.xades.manifestId}">` +
    refs
      .map(
        (r) =>
          `<ds:Reference URI="${esc(r.uri)}"><ds:DigestMethod Algorithm="${alg}"/><ds:DigestValue>${r.digest.toString('base64')}</ds:DigestValue></ds:Reference>`,
      )
      .join('') +
    `</ds:Manifest>`;
  const certDigest = digestFor(cert.raw, alg).toString('base64');
  const issuerSerial = BigInt(`0x${cert.serialNumber}`).toString(10);
  const qualifying =
    `<xad:QualifyingProperties xmlns:xad="${NS.xades}" Target="#${sigId}">` +
    `<xad:SignedProperties Id="${sigId}-SignedProperties"><xad:SignedSignatureProperties>` +
    `<xad:SigningTime>${signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z')}</xad:SigningTime>` +
    `<xad:SigningCertificate><xad:Cert><xad:CertDigest><ds:DigestMethod Algorithm="${alg}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xad:CertDigest>` +
    `<xad:IssuerSerial><ds:X509IssuerName>${esc(cert.issuer.split('\n').reverse().join(','))}</ds:X509IssuerName><ds:X509SerialNumber>${issuerSerial}</ds:X509SerialNumber></xad:IssuerSerial></xad:Cert></xad:SigningCertificate>` +
    `<xad:SignaturePolicyIdentifier><xad:SignaturePolicyImplied/></xad:SignaturePolicyIdentifier>` +
    `</xad:SignedSignatureProperties></xad:SignedProperties></xad:QualifyingProperties>`;
  const sig = new SignedXml({
    privateKey: signer.keyPem,
    publicCert: signer.certPem,
    signatureAlgorithm: WIRE_PROFILE.signature.signatureAlgorithm as never,
    canonicalizationAlgorithm: WIRE_PROFILE.signature.canonicalization as never,
    objects: [{ content: manifest }, { content: qualifying }],
  });
  sig.addReference({
    xpath: `//*[@Id='${WIRE_PROFILE.xades.manifestId}']`,
    digestAlgorithm: alg as never,
    transforms: [WIRE_PROFILE.signature.canonicalization] as never,
    type: WIRE_PROFILE.xades.manifestType,
  });
  sig.addReference({
    xpath: `//*[@Id='${sigId}-SignedProperties']`,
    digestAlgorithm: alg as never,
    transforms: [WIRE_PROFILE.signature.canonicalization] as never,
    type: WIRE_PROFILE.xades.signedPropertiesType,
  });
  // Enveloping: sign inside a neutral wrapper, then keep the ds:Signature alone (exclusive c14n makes the
  // signed content independent of the wrapper).
  sig.computeSignature('<wrapper/>', { prefix: 'ds', attrs: { Id: sigId }, location: { reference: '/*', action: 'append' } });
  const signed = sig.getSignedXml();
  return signed.replace(/^<wrapper>/, '').replace(/<\/wrapper>$/, '');
}

export interface XadesCheck extends SignatureCheck {
  manifest: { uri: string; digestAlgorithm: string; digest: string }[];
  signingTime?: Date;
}

/** Verifies the XAdES signature (crypto + SignedProperties/manifest covered); returns the manifest to compare. */
export function verifySubmissionXades(xml: string): XadesCheck {
  const doc = parseXml(xml, 'XAdES');
  const sigEl = doc.documentElement!;
  const fail = (reason: string, cert?: X509Certificate): XadesCheck => ({ valid: false, reason, manifest: [], cert });
  if (sigEl.namespaceURI !== NS.ds || sigEl.localName !== 'Signature') return fail('root is not ds:Signature');
  const bad = algorithmsAccepted(sigEl);
  if (bad) return fail(bad);
  const manifestEl = descendants(sigEl, NS.ds, 'Manifest').find((m) => attr(m, 'Id') === WIRE_PROFILE.xades.manifestId);
  if (!manifestEl) return fail(`no Manifest ${WIRE_PROFILE.xades.manifestId}`);
  const signedInfo = child(sigEl, NS.ds, 'SignedInfo')!;
  const refUris = descendants(signedInfo, NS.ds, 'Reference').map((r) => attr(r, 'URI'));
  if (!refUris.includes(`#${WIRE_PROFILE.xades.manifestId}`)) return fail('the manifest is not signed');
  const sp = descendant(sigEl, NS.xades, 'SignedProperties');
  if (!sp || !refUris.includes(`#${attr(sp, 'Id')}`)) return fail('XAdES SignedProperties missing or not signed');
  const signingTime = new Date(text(descendant(sp, NS.xades, 'SigningTime')));
  const cert = certOfSignature(sigEl);
  if (!cert) return fail('no X509Certificate in KeyInfo');
  const certDigest = descendant(sp, NS.xades, 'CertDigest');
  if (certDigest) {
    const alg = attr(descendant(certDigest, NS.ds, 'DigestMethod'), 'Algorithm') ?? '';
    if (digestFor(cert.raw, alg).toString('base64') !== text(descendant(certDigest, NS.ds, 'DigestValue'))) {
      return fail('SigningCertificate digest does not match the certificate', cert);
    }
  } else return fail('XAdES SigningCertificate missing', cert);
  try {
    const v = new SignedXml({ publicCert: cert.toString(), getCertFromKeyInfo: () => null });
    v.loadSignature(sigEl as unknown as Node);
    if (!v.checkSignature(xml)) return fail('signature value or digest mismatch', cert);
  } catch (err) {
    return fail((err as Error).message, cert);
  }
  const manifest = children(manifestEl, NS.ds, 'Reference').map((r) => ({
    uri: attr(r, 'URI') ?? '',
    digestAlgorithm: attr(child(r, NS.ds, 'DigestMethod'), 'Algorithm') ?? '',
    digest: text(child(r, NS.ds, 'DigestValue')),
  }));
  return { valid: true, cert, manifest, signingTime: Number.isNaN(signingTime.getTime()) ? undefined : signingTime };
}

/**
 * Whether `cert` chains up to a self-signed root of the trust bundle (root + intermediates), every certificate
 * of the path being valid at `at`. Returns the reason of the refusal, or undefined.
 */
export function certChainOk(cert: X509Certificate, trust: X509Certificate[], at = new Date()): string | undefined {
  let current = cert;
  for (let depth = 0; depth < 6; depth++) {
    if (new Date(current.validFrom) > at || new Date(current.validTo) < at) {
      return depth === 0 ? 'certificate expired or not yet valid' : `issuer certificate expired: ${current.subject.replace(/\n/g, ',')}`;
    }
    const issuer = trust.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) return 'certificate not issued by a trusted CA';
    if (issuer.fingerprint256 === current.fingerprint256 || issuer.checkIssued(issuer)) {
      if (new Date(issuer.validTo) < at) return 'root certificate expired';
      return undefined;
    }
    current = issuer;
  }
  return 'certificate chain too long';
}

/** The certificates of a PEM bundle. */
export function certsOfPem(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}
