import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as pkcs11 from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHolderIdentity } from '../../../src/main/identity/card/holder';
import { pinStateFromFlags } from '../../../src/main/identity/card/pin-state';
import { resolvePkcs11Module } from '../../../src/main/identity/card/pkcs11-module';
import { cpsSubject, SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE } from '../../../src/main/identity/pki/igc-sante-profile';
import { ensureSandboxPki, issueCertificate, type SandboxPki } from '../../../src/main/identity/pki/test-ca';
import { sandboxPractitioner, userInfoClaims } from '../../../src/main/identity/psc/psc-profile';
import { parsePscUserInfo } from '../../../src/main/identity/psc/userinfo';
import { redact } from '../../../src/main/core/redact';
import { tempDir } from '../../support/tmp';

describe('PIN state from the token flags', () => {
  it('maps CKF_USER_PIN_* to the state and the remaining tries of a 3-try CPS', () => {
    expect(pinStateFromFlags(0)).toEqual({ pinState: 'ok', remainingTries: 3 });
    expect(pinStateFromFlags(pkcs11.CKF_USER_PIN_COUNT_LOW)).toEqual({ pinState: 'count-low', remainingTries: 2 });
    expect(pinStateFromFlags(pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY)).toEqual({ pinState: 'final-try', remainingTries: 1 });
    expect(pinStateFromFlags(pkcs11.CKF_USER_PIN_LOCKED | pkcs11.CKF_USER_PIN_COUNT_LOW)).toEqual({ pinState: 'locked', remainingTries: 0 });
  });
});

describe('PKCS#11 module path', () => {
  it('gives a clear French error when the CPS middleware is absent', () => {
    expect(() => resolvePkcs11Module(undefined, 'aix' as NodeJS.Platform)).toThrow(expect.objectContaining({ code: 'CARD_MODULE_MISSING', userMessage: expect.stringContaining('Cryptolib CPS') }));
    expect(() => resolvePkcs11Module('/nowhere/libcps3.so')).toThrow(expect.objectContaining({ code: 'CARD_MODULE_MISSING' }));
  });
});

describe('holder identity from a CPS-like certificate', () => {
  const tmp = tempDir('lps-holder-');
  let pki: SandboxPki;
  let keyFile: string;
  beforeAll(async () => {
    pki = await ensureSandboxPki(path.join(tmp.dir, 'pki'));
    keyFile = path.join(tmp.dir, 'k.pem');
    fs.writeFileSync(keyFile, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }, 60_000);
  afterAll(() => tmp.cleanup());

  it('parses national id with its type prefix, names, profession, structure', async () => {
    const pem = await issueCertificate(pki, { kind: 'cps-auth', subject: cpsSubject(SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE, 'auth'), keyFile });
    expect(parseHolderIdentity(pem)).toEqual({
      nationalId: '899700012345', idType: '8', idTypeLabel: 'RPPS', localId: '99700012345', lastName: 'DURAND', firstName: 'Claire',
      professionCode: '10', profession: 'Médecin', structureName: 'CABINET MEDICAL DU BAC A SABLE', structureId: '3990000001',
    });
  });

  it('accepts the variants: id in serialNumber, "id/suffix" CN, profession code or label alone; ADELI prefix', async () => {
    const a = await issueCertificate(pki, { kind: 'cps-auth', subject: [['C', 'FR'], ['title', 'Pharmacien'], ['serialNumber', '012345678901'], ['CN', 'Jean MARTIN']], keyFile });
    expect(parseHolderIdentity(a)).toMatchObject({ nationalId: '012345678901', idType: '0', idTypeLabel: 'ADELI', professionCode: '21', profession: 'Pharmacien' });
    const b = await issueCertificate(pki, { kind: 'cps-auth', subject: [['title', '60'], ['CN', '810000000001/CPS']], keyFile });
    expect(parseHolderIdentity(b)).toMatchObject({ nationalId: '810000000001', professionCode: '60', profession: 'Infirmier' });
    const none = await issueCertificate(pki, { kind: 'cps-auth', subject: [['CN', 'no id here']], keyFile });
    expect(parseHolderIdentity(none)).toBeUndefined();
  });
});

describe('PSC UserInfo', () => {
  it('parses SubjectNameID, exercices and activities (structure id, sector)', () => {
    const id = parsePscUserInfo(userInfoClaims(sandboxPractitioner('x')));
    expect(id).toMatchObject({ nationalId: '899700012345', idTypeLabel: 'RPPS', lastName: 'DURAND' });
    expect(id.exercices[0]).toMatchObject({ professionCode: '10', specialtyCode: 'SM54', activities: [{ structureId: '3990000001', sectorCode: 'SA07', finess: '990000001' }, { structureId: '3990000002', sectorCode: 'SA05', finess: '990000002' }] });
  });
  it('refuses a UserInfo without SubjectNameID with a specific error; tolerates missing optional parts', () => {
    expect(() => parsePscUserInfo({ given_name: 'A' })).toThrow(expect.objectContaining({ code: 'PSC_USERINFO_INVALID' }));
    expect(parsePscUserInfo({ SubjectNameID: '899700000001', SubjectRefPro: { exercices: [{ codeProfession: '10', activities: 'bad' }] } }).exercices[0]!.activities).toEqual([]);
  });
  it('a PIN, a password or a token in audit details is masked', () => {
    expect(JSON.stringify(redact({ pin: '1234', accessToken: 'abc', p12Password: 'x' }))).not.toMatch(/1234|abc|"x"/);
  });
});
