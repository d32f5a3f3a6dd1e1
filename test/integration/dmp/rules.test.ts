import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { DMP_ERRORS } from '../../../src/main/dmp/faults';
import { ACTIONS, STATUS } from '../../../src/main/dmp/protocol';
import { validateXdsBody } from '../../../src/main/dmp/schema';
import { OTHER_PS } from '../../../src/main/dmp/server/seed';
import { createTestPki } from '../../../src/main/dmp/server/test-pki';
import { parseEnvelope } from '../../../src/main/dmp/soap';
import { buildAdhocQuery } from '../../../src/main/dmp/xds-messages';
import { makeCda, SCHEMAS, startHarness, type Harness } from './support';

const OID = '1.2.250.1.213.1.4.10';
const P = {
  dominique: { ins: '279035121518989', insOid: OID },
  martin: { ins: '185067512300159', insOid: OID },
  durand: { ins: '292013345600241', insOid: OID },
  bernard: { ins: '177046978900396', insOid: OID },
  petit: { ins: '266121357900485', insOid: OID },
  robert: { ins: '101109924600591', insOid: OID },
};
/** uniqueId of the seeded CR d'imagerie (the ANS example's id), authored by another structure. */
const SEEDED_CR = '1.2.250.1.213.1.1.1.45.2024.2.1';

const fault = (code: keyof typeof DMP_ERRORS) => ({ code, userMessage: DMP_ERRORS[code] });

describe.skipIf(!HAS_SHARED)('DMP test server: rules, faults and French messages', () => {
  let h: Harness;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    tmp = tempDir('lps-dmp-rules-');
    h = await startHarness(tmp.dir);
  });
  afterAll(async () => {
    await h?.stop();
    tmp?.cleanup();
  });
  const cda = (ins: string, structureId = h.pki.org.structureId) => makeCda({ ins, structureId });

  it('TD0.2 reports every DMP status and authorization state', async () => {
    const c = h.client();
    expect(await c.status(P.dominique)).toMatchObject({ dmp: 'ACTIF', authorization: 'VALIDE', treatingPhysician: false, patientWebAccess: true });
    expect(await c.status(P.martin)).toMatchObject({ dmp: 'ACTIF', authorization: 'NON_EXISTE' });
    expect(await c.status(P.durand)).toMatchObject({ dmp: 'ACTIF', authorization: 'EXPIRE' });
    expect(await c.status(P.bernard)).toMatchObject({ dmp: 'ACTIF', authorization: 'INTERDIT' });
    expect(await c.status(P.petit)).toMatchObject({ dmp: 'FERME', closureDate: '20240115' });
    expect(await c.status(P.robert)).toMatchObject({ dmp: 'INEXISTANT', authorization: 'NON_EXISTE' });
    expect(await h.client({ nameId: OTHER_PS.nameId, org: 'otherOrg' }).status(P.dominique)).toMatchObject({ treatingPhysician: true });
  });

  it('authorization required, expired, forbidden; unknown and closed DMP', async () => {
    const c = h.client();
    await expect(c.publish(cda(P.martin.ins).xml)).rejects.toMatchObject(fault('DMP_NO_AUTHORIZATION'));
    await expect(c.find(P.durand)).rejects.toMatchObject(fault('DMP_AUTHORIZATION_EXPIRED'));
    await expect(c.publish(cda(P.bernard.ins).xml)).rejects.toMatchObject(fault('DMP_AUTHORIZATION_FORBIDDEN'));
    await expect(c.setAuthorization(P.bernard)).rejects.toMatchObject(fault('DMP_AUTHORIZATION_FORBIDDEN'));
    await expect(c.publish(cda(P.robert.ins).xml)).rejects.toMatchObject(fault('DMP_PATIENT_UNKNOWN'));
    await expect(c.setAuthorization(P.robert)).rejects.toMatchObject(fault('DMP_PATIENT_UNKNOWN'));
    await expect(c.publish(cda(P.petit.ins).xml)).rejects.toMatchObject(fault('DMP_CLOSED'));
    // TD0.3 renews an expired authorization; removing it brings NON_EXISTE back
    await c.setAuthorization(P.durand);
    expect((await c.status(P.durand)).authorization).toBe('VALIDE');
    await c.setAuthorization(P.durand, true);
    expect((await c.status(P.durand)).authorization).toBe('NON_EXISTE');
  });

  it('only an author may publish, replace or delete', async () => {
    const c = h.client();
    // CDA authored by another structure than the caller's
    await expect(c.publish(cda(P.dominique.ins, '1750803447').xml)).rejects.toMatchObject(fault('DMP_NOT_AUTHOR'));
    const v2 = makeCda({ ins: P.dominique.ins, structureId: h.pki.org.structureId, replaces: SEEDED_CR });
    await expect(c.publish(v2.xml, { replaceUniqueId: SEEDED_CR })).rejects.toMatchObject(fault('DMP_NOT_AUTHOR'));
    await expect(c.setStatus(P.dominique, SEEDED_CR, 'deleted')).rejects.toMatchObject(fault('DMP_NOT_AUTHOR'));
    const entry = await c.currentEntry(P.dominique, SEEDED_CR);
    expect(entry.status).toBe(STATUS.approved);
  });

  it('masked documents are invisible to PS who are neither author nor treating physician', async () => {
    const me = await h.client().find(P.dominique);
    const treating = await h.client({ nameId: OTHER_PS.nameId, org: 'otherOrg' }).find(P.dominique);
    const masked = treating.entries.filter((e) => e.confidentialityCodes.some((x) => x.code === 'MASQUE_PS'));
    expect(masked).toHaveLength(1);
    expect(me.entries.map((e) => e.uniqueId)).not.toContain(masked[0]!.uniqueId);
    expect(me.entries.length).toBe(treating.entries.length - 1);
    await expect(h.client().getDocument(P.dominique, masked[0]!.uniqueId)).rejects.toMatchObject(fault('DMP_DOCUMENT_UNKNOWN'));
  });

  it('INVISIBLE_PATIENT: hidden from the patient, and irreversible once visible; legal representatives', async () => {
    const c = h.client();
    const a = cda(P.dominique.ins);
    await c.publish(a.xml, { masking: ['INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX'] });
    expect(h.server.patientView(P.dominique.ins)).not.toContain(a.uniqueId);
    await c.setVisibility(P.dominique, a.uniqueId, { invisiblePatient: false });
    expect(h.server.patientView(P.dominique.ins)).toContain(a.uniqueId);
    expect(h.server.patientView(P.dominique.ins, true)).not.toContain(a.uniqueId);
    await c.setVisibility(P.dominique, a.uniqueId, { invisibleLegalReps: false });
    expect(h.server.patientView(P.dominique.ins, true)).toContain(a.uniqueId);
    await expect(c.setVisibility(P.dominique, a.uniqueId, { invisiblePatient: true })).rejects.toMatchObject(fault('DMP_STATUS_TRANSITION'));
  });

  it('status transitions: archive, unarchive, delete; archived shown only on request', async () => {
    const c = h.client();
    const a = cda(P.dominique.ins);
    await c.publish(a.xml);
    await c.setStatus(P.dominique, a.uniqueId, 'archived');
    expect((await c.find(P.dominique)).entries.map((e) => e.uniqueId)).not.toContain(a.uniqueId);
    expect((await c.find(P.dominique, { statuses: ['archived'] })).entries.map((e) => e.uniqueId)).toContain(a.uniqueId);
    await c.setStatus(P.dominique, a.uniqueId, 'approved');
    expect((await c.find(P.dominique)).entries.map((e) => e.uniqueId)).toContain(a.uniqueId);
    await c.setStatus(P.dominique, a.uniqueId, 'deleted');
    expect((await c.getDocuments(P.dominique, { uniqueIds: [a.uniqueId] })).entries).toHaveLength(0);
    await expect(c.setStatus(P.dominique, a.uniqueId, 'archived')).rejects.toMatchObject(fault('DMP_DOCUMENT_UNKNOWN'));
  });

  it('invalid XAdES, non-MTOM ITI-41, schema-invalid body, duplicate uniqueId', async () => {
    const c = h.client();
    const good = h.client().cfg.signing;
    const tampered = h.client({
      signing: { ...good, signManifest: (items, at) => good.signManifest(items.map((i, n) => (n === 1 ? { ...i, data: Buffer.from('autre contenu') } : i)), at) },
    });
    await expect(tampered.publish(cda(P.dominique.ins).xml)).rejects.toMatchObject(fault('DMP_SIGNATURE_INVALID'));
    // the same body without MTOM: inline base64
    const body = `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList/></lcm:SubmitObjectsRequest><xdsb:Document id="d1">PENsaW5pY2FsRG9jdW1lbnQvPg==</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`;
    await expect(c.call(ACTIONS.td21, P.dominique, body, { idempotent: false })).rejects.toMatchObject(fault('DMP_MTOM_REQUIRED'));
    const invalid = buildAdhocQuery({ kind: 'FindDocuments', params: { patientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH', statuses: ['approved'] }, returnType: 'LeafClass' }).replace('<rim:AdhocQuery', '<rim:Inconnu/><rim:AdhocQuery');
    await expect(c.call(ACTIONS.td31, P.dominique, invalid, { idempotent: true })).rejects.toMatchObject({ code: 'DMP_REQUEST_INVALID' });
    await expect(h.client({ schemaDir: undefined }).call(ACTIONS.td31, P.dominique, invalid, { idempotent: true })).rejects.toMatchObject(fault('DMP_SCHEMA_INVALID'));
    // same document twice: the client's journal-less second publish is refused by the registry
    const d = cda(P.dominique.ins);
    await c.publish(d.xml);
    await expect(c.publish(d.xml)).rejects.toMatchObject(fault('DMP_DUPLICATE_UNIQUEID'));
  });

  it('VIHF: expired, unsigned in indirect mode, structure not matching the certificate; expired TLS certificate', async () => {
    const base = h.client().cfg;
    await expect(h.client({ vihf: { ...base.vihf, validityMinutes: -5 } }).status(P.dominique)).rejects.toMatchObject(fault('DMP_VIHF_EXPIRED'));
    await expect(h.client({ signing: { ...base.signing, signAssertion: async (x) => x } }).status(P.dominique)).rejects.toMatchObject(fault('DMP_VIHF_SIGNATURE'));
    await expect(h.client({ vihf: { ...base.vihf, structureId: '10B0067890' } }).status(P.dominique)).rejects.toMatchObject(fault('DMP_AUTH_STRUCTURE'));
    await expect(h.client({ tlsCert: h.pki.expired.cert, tlsKey: h.pki.expired.key }).status(P.dominique)).rejects.toMatchObject(fault('DMP_CERT_INVALID'));
    // a certificate from another authority: refused before anything is parsed
    const foreign = createTestPki(path.join(h.dir, 'foreign-pki'));
    await expect(h.client({ tlsCert: foreign.org.authCert, tlsKey: foreign.org.authKey }).status(P.dominique)).rejects.toMatchObject(fault('DMP_CERT_INVALID'));
  });

  it('ambiguous TD2.1 (connection cut after processing) is resolved by a lookup, never resubmitted twice', async () => {
    const c = h.client();
    const d = cda(P.dominique.ins);
    h.server.hooks.dropAfterProcessing = { [ACTIONS.td21]: 1 };
    const before = h.server.calls[ACTIONS.td21] ?? 0;
    const r = await c.publish(d.xml);
    expect(r.outcome).toBe('confirmed-after-timeout');
    expect(h.server.calls[ACTIONS.td21]).toBe(before + 1);
    expect((await c.getDocuments(P.dominique, { uniqueIds: [d.uniqueId] })).entries).toHaveLength(1);
    // timeout on the answer: same resolution
    const e = cda(P.dominique.ins);
    h.server.hooks.delayMs = { [ACTIONS.td21]: 1500 };
    const r2 = await h.client({ requestTimeoutMs: 700 }).publish(e.xml);
    h.server.hooks.delayMs = {};
    expect(r2.outcome).toBe('confirmed-after-timeout');
    expect((await c.getDocuments(P.dominique, { uniqueIds: [e.uniqueId] })).entries).toHaveLength(1);
  });

  it('every logged request validates against the shared schemas; no document body nor VIHF signature in the log', async () => {
    const dir = path.join(h.dir, 'logs');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('_request.xml'));
    expect(files.length).toBeGreaterThan(20);
    let xds = 0;
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      expect(text).not.toMatch(/<(\w+:)?SignatureValue[^>]*>[A-Za-z0-9+/]{20}/);
      const env = parseEnvelope(text);
      const ns = env.payload?.namespaceURI ?? '';
      if (!['urn:ihe:iti:xds-b:2007', 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0', 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0'].includes(ns)) continue;
      if (text.includes('<rim:Inconnu/>') || text.includes('PENsaW5pY2FsRG9jdW1lbnQvPg')) continue; // the deliberately invalid ones
      const body = text.slice(text.indexOf('<soap:Body>') + 11, text.lastIndexOf('</soap:Body>'));
      const r = await validateXdsBody(body, SCHEMAS);
      expect(r.errors, f).toEqual([]);
      xds++;
    }
    expect(xds).toBeGreaterThan(10);
  });
});
