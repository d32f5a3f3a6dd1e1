import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { softwareSigner } from '../../../src/main/identity';
import { identitySigning, pemSigning } from '../../../src/main/dmp/signing';
import { createTestPki } from '../../../src/main/dmp/server/test-pki';
import { buildVihf, dnOf } from '../../../src/main/dmp/vihf';
import { verifyAssertionSignature, verifySubmissionXades } from '../../../src/main/dmp/xmlsig';
import { tempDir } from '../../support/tmp';

const vihfInput = (issuerDn: string) => ({
  mode: 'INDIRECTE' as const, issuerDn, nameId: '810001234567', subjectName: 'Dr X', roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7' }],
  sector: 'SA07', structureId: '10B0012345', patient: { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' },
  lps: { id: 'a', name: 'b', version: 'c', homologation: 'd' },
});

describe('VIHF and XAdES signatures (both signers verify with the server code)', () => {
  const tmp = tempDir('lps-dmp-sig-');
  afterAll(() => tmp.cleanup());
  const pki = createTestPki(path.join(tmp.dir, 'pki'));
  const keyPem = fs.readFileSync(pki.org.signKey, 'utf8');
  const certPem = fs.readFileSync(pki.org.signCert, 'utf8');
  const signers = {
    pem: pemSigning({ keyPem, certPem }),
    identity: identitySigning(softwareSigner({ privateKeyPem: keyPem, chainPem: [certPem] })),
  };
  for (const [name, s] of Object.entries(signers)) {
    it(`${name}: signed VIHF verifies, a tampered one does not`, async () => {
      const signed = await s.signAssertion(buildVihf(vihfInput(dnOf(certPem))).xml);
      expect(verifyAssertionSignature(signed)).toMatchObject({ valid: true });
      expect(verifyAssertionSignature(signed.replace('810001234567', '810009999999')).valid).toBe(false);
    });
    it(`${name}: XAdES manifest verifies and lists the digests`, async () => {
      const x = await s.signManifest([{ uri: 'urn:oid:1.2.3', data: Buffer.from('doc') }], new Date());
      const r = verifySubmissionXades(x);
      expect(r.reason).toBeUndefined();
      expect(r.manifest.map((m) => m.uri)).toEqual(['urn:oid:1.2.3']);
      expect(verifySubmissionXades(x.replace('urn:oid:1.2.3', 'urn:oid:1.2.4')).valid).toBe(false);
    });
  }
});
