import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxPki, issueCertificate, revokeCertificate, type SandboxPki } from '../../../src/main/identity/pki/test-ca';
import { readP12, signerFromP12, softwareSigner, type XmlSigner } from '../../../src/main/identity/signing/signer';
import { signXades, signXadesManifest, signXmlEnveloped, verifyManifestItems, verifyXmlSignature } from '../../../src/main/identity/signing/xml-signature';
import { TrustStore } from '../../../src/main/identity/tls/trust-store';
import { tempDir } from '../../support/tmp';
import { HAS_XMLSEC, xmlsecVerify } from './xmlsec';

const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const ASSERTION = `<saml2:Assertion xmlns:saml2="${SAML_NS}" ID="_vihf-1" IssueInstant="2026-01-01T00:00:00Z" Version="2.0"><saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">CN=SIGN.3990000001</saml2:Issuer><saml2:Subject><saml2:NameID>Dr Claire DURAND é</saml2:NameID></saml2:Subject><saml2:AttributeStatement/></saml2:Assertion>`;

describe.skipIf(!HAS_XMLSEC)('XML signatures with the structure ORG certificate (.p12)', () => {
  const tmp = tempDir('lps-sign-');
  let pki: SandboxPki;
  let signer: XmlSigner;
  let trust: TrustStore;

  beforeAll(async () => {
    pki = await ensureSandboxPki(path.join(tmp.dir, 'pki'));
    signer = signerFromP12(pki.org.signP12, pki.org.p12Password);
    trust = TrustStore.fromProfile(pki);
  }, 60_000);
  afterAll(() => tmp.cleanup());

  it('creates the PKI once and reuses it (idempotent)', async () => {
    const again = await ensureSandboxPki(pki.dir);
    expect(again.org.p12Password).toBe(pki.org.p12Password);
    expect(fs.readFileSync(again.caCert, 'utf8')).toBe(fs.readFileSync(pki.caCert, 'utf8'));
    const root = new crypto.X509Certificate(fs.readFileSync(pki.caCert));
    expect(root.subject).toContain('TEST AC RACINE IGC-SANTE');
    const server = new crypto.X509Certificate(fs.readFileSync(pki.serverCert));
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
  });

  it('reads the .p12 with its chain, refuses a wrong password with a specific error', () => {
    const m = readP12(pki.org.signP12, pki.org.p12Password);
    expect(m.chainPem).toHaveLength(2);
    expect(new crypto.X509Certificate(m.chainPem[0]!).subject).toContain('CN=SIGN.3990000001');
    expect(() => readP12(pki.org.signP12, 'wrong')).toThrow(expect.objectContaining({ code: 'P12_BAD_PASSWORD' }));
  });

  it('signs a VIHF-like SAML assertion (enveloped, exc-c14n, after Issuer) verified by xmlsec1', async () => {
    const signed = await signXmlEnveloped(ASSERTION, signer, { referenceUri: '#_vihf-1', insertAfter: { namespaceURI: SAML_NS, localName: 'Issuer' } });
    expect(signed).toMatch(/<saml2:Issuer[^>]*>[^<]*<\/saml2:Issuer><ds:Signature/);
    expect(signed).toContain('Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"');
    expect(signed).toContain('xmldsig-more#rsa-sha256');
    expect(signed).not.toContain('QualifyingProperties');
    const v = xmlsecVerify(signed, pki.caCert, ['--id-attr:ID', `${SAML_NS}:Assertion`]);
    expect(v.ok, v.output).toBe(true);
    const ours = await verifyXmlSignature(signed, { trust });
    expect(ours).toMatchObject({ valid: true, references: ['#_vihf-1'], xades: false });
    // Tampering is detected by both verifiers.
    const tampered = signed.replace('Claire DURAND', 'Claire DUPOND');
    expect(xmlsecVerify(tampered, pki.caCert, ['--id-attr:ID', `${SAML_NS}:Assertion`]).ok).toBe(false);
    expect((await verifyXmlSignature(tampered, { trust })).valid).toBe(false);
  });

  it('signs with SHA-1 when configured (DMP algorithm unconfirmed)', async () => {
    const signed = await signXmlEnveloped(ASSERTION, signer, { referenceUri: '#_vihf-1', digest: 'SHA-1' });
    expect(signed).toContain('xmldsig#rsa-sha1');
    expect(xmlsecVerify(signed, pki.caCert, ['--id-attr:ID', `${SAML_NS}:Assertion`]).ok).toBe(true);
  });

  it('XAdES-BES enveloped: SigningTime, SigningCertificate, SignaturePolicyImplied; verified by xmlsec1', async () => {
    const signed = await signXades('<lot xmlns="urn:test"><doc>données</doc></lot>', signer, { signingTime: new Date('2026-03-01T10:00:00Z') });
    for (const el of ['SigningTime>2026-03-01T10:00:00', 'SigningCertificate', 'SignaturePolicyImplied']) expect(signed).toContain(el);
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);
    expect(await verifyXmlSignature(signed, { trust })).toMatchObject({ valid: true, xades: true });
  });

  it('XAdES over an IHE Manifest of detached items (submission set signature)', async () => {
    const items = [
      { uri: 'urn:oid:1.2.250.1.999.1.1', data: Buffer.from('submission set') },
      { uri: 'urn:oid:1.2.250.1.999.1.2', data: Buffer.from('<ClinicalDocument/>') },
    ];
    const sig = await signXadesManifest(items, signer);
    expect(sig).toMatch(/^<ds:Signature/);
    expect(sig).toContain('URI="#IHEManifest"');
    const v = xmlsecVerify(sig, pki.caCert, ['--ignore-manifests']);
    expect(v.ok, v.output).toBe(true);
    expect(await verifyXmlSignature(sig, { trust })).toMatchObject({ valid: true, references: expect.arrayContaining(['#IHEManifest']) });
    expect(await verifyManifestItems(sig, items)).toEqual([]);
    expect(await verifyManifestItems(sig, [items[0]!, { ...items[1]!, data: Buffer.from('changed') }])).toEqual(['urn:oid:1.2.250.1.999.1.2']);
  });

  it('refuses XML with a DTD before signing or verifying', async () => {
    const evil = '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>';
    await expect(signXades(evil, signer)).rejects.toMatchObject({ code: 'XML_INVALID' });
    await expect(verifyXmlSignature(evil)).rejects.toMatchObject({ code: 'XML_INVALID' });
  });

  it('a valid signature by an untrusted, expired or revoked certificate is reported invalid', async () => {
    // Self-signed key outside the PKI.
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = path.join(tmp.dir, 'k.pem');
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const expiredPem = await issueCertificate(pki, { kind: 'org-sign', subject: [['CN', 'EXPIRED']], keyFile, notBefore: new Date(Date.now() - 10 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
    const orgCa = fs.readFileSync(pki.ca.organisations.cert, 'utf8');
    const expired = softwareSigner({ privateKeyPem: fs.readFileSync(keyFile, 'utf8'), chainPem: [expiredPem, orgCa] });
    const r1 = await verifyXmlSignature(await signXades('<a/>', expired), { trust });
    expect(r1.valid).toBe(false);
    expect(r1.reason).toMatch(/CERT_EXPIRED/);

    const revokedPem = await issueCertificate(pki, { kind: 'org-sign', subject: [['CN', 'REVOKED']], keyFile });
    const revokedSigner = softwareSigner({ privateKeyPem: fs.readFileSync(keyFile, 'utf8'), chainPem: [revokedPem, orgCa] });
    const doc = await signXades('<a/>', revokedSigner);
    expect((await verifyXmlSignature(doc, { trust })).valid).toBe(true);
    await revokeCertificate(pki, revokedPem);
    const r2 = await verifyXmlSignature(doc, { trust: TrustStore.fromProfile(pki) });
    expect(r2.valid).toBe(false);
    expect(r2.reason).toMatch(/CERT_REVOKED/);

    const other = await ensureSandboxPki(path.join(tmp.dir, 'other-pki'));
    const r3 = await verifyXmlSignature(await signXades('<a/>', signer), { trust: TrustStore.fromProfile(other) });
    expect(r3.valid).toBe(false);
    expect(r3.reason).toMatch(/CERT_UNTRUSTED/);
  });
});
