import { X509Certificate } from 'node:crypto';
import { readP12, signXadesManifest, signXmlEnveloped, type XmlSigner } from '../identity';
import { NS } from './protocol';
import { WIRE_PROFILE } from './wire-profile';
import { digestFor, signAssertion, signSubmissionXades, type PemSigner } from './xmlsig';

/**
 * Who signs the VIHF (XMLDSig) and the submission sets (XAdES): the structure's ORG signature certificate
 * (indirect mode) or the CPS card (direct mode). Two implementations:
 * - `pemSigning`: a software key in PEM (the ORG .p12 read by the identity capability), signed with xml-crypto;
 * - `identitySigning`: any `XmlSigner` of the identity capability (card through PKCS#11, or .p12), signed with
 *   its XMLDSig/XAdES services.
 * The test server verifies both with the same code.
 */
export interface DmpSigning {
  /** The signing certificate (PEM): the VIHF Issuer is its DN. */
  certPem: string;
  signAssertion(xml: string): Promise<string>;
  signManifest(items: { uri: string; data: Buffer }[], signingTime: Date): Promise<string>;
}

export function pemSigning(s: PemSigner): DmpSigning {
  return {
    certPem: s.certPem,
    signAssertion: async (xml) => signAssertion(xml, s),
    signManifest: async (items, at) => signSubmissionXades(items.map((i) => ({ uri: i.uri, digest: digestFor(i.data) })), s, at),
  };
}

/** The ORG signature .p12 (sandbox profile `pki.org.signP12`, or production configuration). */
export function p12Signing(p12Path: string, password: string): DmpSigning {
  const m = readP12(p12Path, password);
  return pemSigning({ keyPem: m.privateKeyPem, certPem: m.chainPem[0]! });
}

const digestName = (): 'SHA-256' | 'SHA-1' => (WIRE_PROFILE.signature.digestAlgorithm.endsWith('sha1') ? 'SHA-1' : 'SHA-256');

export function identitySigning(signer: XmlSigner): DmpSigning {
  const leaf = signer.certificateChain[0];
  if (!leaf) throw new Error('signer without certificate');
  return {
    certPem: new X509Certificate(Buffer.from(leaf)).toString(),
    signAssertion: (xml) =>
      signXmlEnveloped(xml, signer, {
        referenceUri: `#${/\bID="([^"]+)"/.exec(xml)?.[1] ?? ''}`,
        insertAfter: { namespaceURI: NS.saml, localName: 'Issuer' },
        digest: digestName(),
        includeChain: true,
      }),
    signManifest: (items, at) => signXadesManifest(items.map((i) => ({ uri: i.uri, data: new Uint8Array(i.data) })), signer, { digest: digestName(), signingTime: at }),
  };
}
