import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCda, buildNewVersion, checkCda, companionPdfName, parseCda, renderCompanionPdf, renderNarrativeHtml, validateXmlWithSchema, xdmSubject } from '../../../src/main/documents';
import { parseCdaHeader } from '../../../src/main/documents/cda-parse';
import { HAS_SHARED, sharedPath } from '../../support/shared';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');
const request = () => JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8'));

describe.skipIf(!HAS_SHARED)('CDA R2 on the ANS examples', () => {
  const dir = HAS_SHARED ? sharedPath('fixtures', 'cda-ans') : '';
  const files = HAS_SHARED ? fs.readdirSync(dir).filter((f) => f.endsWith('.xml')) : [];
  it('has the six ANS examples', () => expect(files.length).toBeGreaterThanOrEqual(6));

  it.each(files)('%s parses into header + body', (f) => {
    const p = parseCda(fs.readFileSync(path.join(dir, f)));
    const h = p.header;
    expect(h.patient.ins).toEqual({ value: '279035121518989', oid: '1.2.250.1.213.1.4.10', kind: 'INS-NIR-TEST' });
    expect(h.patient.ids[1]).toMatchObject({ kind: 'LOCAL', extension: '1234567890121' });
    expect(h.patient).toMatchObject({ birthFamily: 'PAT-TROIS', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28' });
    expect(h.setId?.root).toMatch(/^[0-9.]+$/);
    expect(h.versionNumber).toBeGreaterThanOrEqual(1);
    expect(h.authors[0]?.id?.root).toBe('1.2.250.1.71.4.2.1');
    expect(h.authors[0]?.code?.code).toMatch(/^G15_10\/SM\d\d$/);
    expect(h.effectiveTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(h.confidentiality?.code).toBe('N');
    expect(h.facilityType?.codeSystem).toBe('1.2.250.1.71.4.2.4');
    expect(h.practiceSetting?.code).toMatch(/^(AMBULATOIRE|ETABLISSEMENT)$/);
    if (p.level === 1) expect(p.body.kind === 'pdf' && p.body.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    else expect(p.body.kind === 'narrative' && p.body.sectionCount).toBeGreaterThan(0);
    // the header alone (mail reception) reads the same header
    expect(parseCdaHeader(p.bytes)).toEqual({ header: h, bytes: p.bytes });
  });

  it('reads the replacement and the imaging identifiers of the CR-IMG', () => {
    const h = parseCda(fs.readFileSync(path.join(dir, 'IMG_CR_IMG_2024.01.xml'))).header;
    expect(h.versionNumber).toBe(2);
    expect(h.relatedDocuments).toEqual([{ typeCode: 'RPLC', parentIds: [{ root: '90E1C8EC-F951-4B26-A305-A34848818DD6' }] }]);
    expect(h.accessionNumbers).toContainEqual({ root: '1.2.250.1.925.994044785528.27', extension: '105234751' });
    expect(h.orderIds).toContainEqual({ root: '1.2.250.1.748.12345678.12', extension: '984375862' });
    expect(h.studyInstanceUids).toContain('1.2.250.1.925.994044.27.123.1876360');
  });

  it.each(files)('%s passes lps cda check (schema + CI-SIS header rules)', async (f) => {
    const r = await checkCda(fs.readFileSync(path.join(dir, f)));
    expect(r.schemaChecked).toBe(true);
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('the narrative of every structured example renders without any active content', () => {
    for (const f of files) {
      const html = renderNarrativeHtml(fs.readFileSync(path.join(dir, f)));
      expect(html).not.toMatch(/<script|<img|<iframe|\son\w+=|href=|src=|style=|javascript:/i);
    }
  });
});

describe('building CDA documents', () => {
  it('builds the example request; the result is a level-1 PDF CDA that reads back', () => {
    const b = buildCda(request(), { baseDir: EXAMPLES, now: new Date('2026-11-20T11:00:00+01:00') });
    const h = b.parsed.header;
    expect(b.parsed.body.kind).toBe('pdf');
    expect(h.typeCode).toMatchObject({ code: '11488-4', codeSystem: '2.16.840.1.113883.6.1' });
    expect(h.patient.ins?.value).toBe('279035121518989');
    expect(h.authors[0]).toMatchObject({ family: 'DUPONT', given: 'JEAN', code: { code: 'G15_10/SM54', displayName: 'Médecin - Médecine Générale (SM)' } });
    expect(h.facilityType?.displayName).toBe('Cabinet individuel');
    expect(h.serviceEvents[0]?.start).toBe('2026-11-20T10:00:00+01:00');
    expect(h.versionNumber).toBe(1);
  });

  it.skipIf(!HAS_SHARED)('validates against CDA_extended.xsd, also as a new version (RPLC)', async () => {
    const b = buildCda(request(), { baseDir: EXAMPLES });
    expect(await validateXmlWithSchema(b.xml, 'cda')).toEqual({ valid: true, errors: [] });
    const v2 = buildNewVersion(b.parsed, request(), { baseDir: EXAMPLES });
    expect(v2.parsed.header.setId).toEqual(b.parsed.header.setId);
    expect(v2.parsed.header.versionNumber).toBe(2);
    expect(v2.parsed.header.id).not.toEqual(b.parsed.header.id);
    expect(v2.parsed.header.relatedDocuments).toEqual([{ typeCode: 'RPLC', parentIds: [b.parsed.header.id] }]);
    const c = await checkCda(v2.bytes);
    expect(c.problems).toEqual([]);
  });

  it('a plain-text body', () => {
    const r = request();
    delete r.document.pdf;
    r.document.text = 'Patiente vue ce jour. <b>pas de HTML</b>';
    const b = buildCda(r);
    expect(b.parsed.body).toEqual({ kind: 'text', mediaType: 'text/plain', text: r.document.text });
    expect(renderNarrativeHtml(b.parsed)).toContain('&lt;b&gt;pas de HTML&lt;/b&gt;');
  });

  it('refuses bad requests with specific errors', () => {
    const r = request();
    r.patient.insQualified = false;
    delete r.patient.ipp;
    expect(() => buildCda(r, { baseDir: EXAMPLES })).toThrow(expect.objectContaining({ code: 'CDA_REQUEST_INVALID' }));
    const r2 = request();
    r2.document.pdf = 'cda-request.json';
    expect(() => buildCda(r2, { baseDir: EXAMPLES })).toThrow(expect.objectContaining({ code: 'CDA_PDF_INVALID' }));
    const r3 = request();
    r3.document.pdf = 'missing.pdf';
    expect(() => buildCda(r3, { baseDir: EXAMPLES })).toThrow(expect.objectContaining({ code: 'CDA_PDF_UNREADABLE' }));
    const r4 = request();
    r4.author.idNat = 'x';
    expect(() => buildCda(r4, { baseDir: EXAMPLES })).toThrow(expect.objectContaining({ code: 'CDA_REQUEST_INVALID' }));
  });

  it('leaves out an INS that is not qualified (IPP only)', () => {
    const r = request();
    r.patient.insQualified = false;
    const h = buildCda(r, { baseDir: EXAMPLES }).parsed.header;
    expect(h.patient.ins).toBeUndefined();
    expect(h.patient.ids).toEqual([{ root: '1.2.3.4.567.8.9.10', extension: '1234567890121', kind: 'LOCAL' }]);
  });
});

describe('checking CDA documents', () => {
  it('lists header problems with specific codes (exit 1 in the CLI)', async () => {
    const b = buildCda(request(), { baseDir: EXAMPLES });
    const broken = b.xml
      .replace('<realmCode code="FR"/>', '')
      .replace('<confidentialityCode code="N"', '<confidentialityCode code="X"')
      .replace(/<languageCode code="fr-FR"\/>/, '<languageCode code="en-US"/>')
      .replace('code="11488-4"', 'code="99999-9"');
    const r = await checkCda(broken);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['CISIS_REALM', 'CISIS_CONFIDENTIALITY', 'CISIS_LANGUAGE', 'CISIS_TYPECODE']));
  });

  it('never hands a DTD to the schema validator', async () => {
    const r = await checkCda('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>');
    expect(r).toMatchObject({ ok: false, schemaChecked: false });
    expect(r.problems[0]?.code).toBe('XML_INVALID');
  });

  it('refuses what is not a CDA', () => {
    expect(() => parseCda('<foo/>')).toThrow(expect.objectContaining({ code: 'CDA_NOT_CDA' }));
    expect(() => parseCdaHeader(Buffer.from('<foo/>'))).toThrow(expect.objectContaining({ code: 'CDA_NOT_CDA' }));
    expect(() => parseCdaHeader(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3">'))).toThrow(expect.objectContaining({ code: 'XML_INVALID' }));
  });
});

describe('safe narrative rendering', () => {
  it('strips scripts, handlers, links, images and styles whatever the input', () => {
    const xml = `<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:h="http://www.w3.org/1999/xhtml"><id root="1.2"/><code code="11488-4" codeSystem="2.16.840.1.113883.6.1"/>
      <component><structuredBody><component><section><title>T&lt;script&gt;</title><text>
        <paragraph styleCode="Bold" onclick="alert(1)" style="background:url(http://evil/x)">Hello <script>alert(1)</script><h:script>alert(2)</h:script></paragraph>
        <linkHtml href="javascript:alert(1)">click</linkHtml><linkHtml href="http://evil.example/">remote</linkHtml>
        <renderMultiMedia referencedObject="img1"/><h:img src="http://evil.example/x.png"/><h:iframe src="http://evil.example"/>
        <table border="1"><tbody><tr><td colspan="2" onmouseover="x()">a</td><td colspan="2&quot; onclick=&quot;x">b</td></tr></tbody></table>
        <list listType="ordered"><item>one</item></list>
      </text></section></component></structuredBody></component></ClinicalDocument>`;
    const html = renderNarrativeHtml(xml);
    expect(html).not.toMatch(/<script|<img|<iframe|\son\w+=|href=|src=|style=|javascript:|url\(/i);
    expect(html).toContain('<strong>Hello </strong>');
    expect(html).toContain('T&lt;script&gt;');
    expect(html).toContain('<td colspan="2">a</td><td>b</td>');
    expect(html).toContain('<ol><li>one</li></ol>');
    expect(html).toContain('[image jointe]');
    expect(html).toContain('click');
  });
});

describe('companion PDF', () => {
  it('renders a PDF/A-1b identified PDF with the embedded font and names it per the rule', async () => {
    const b = buildCda(request(), { baseDir: EXAMPLES });
    const pdf = await renderCompanionPdf(b.parsed);
    const s = pdf.toString('latin1');
    expect(s.startsWith('%PDF-1.4')).toBe(true);
    expect(s).toContain('pdfaid:part');
    expect(s).toMatch(/FontFile2/);
    expect(companionPdfName(b.parsed)).toBe('20261120_CR-ou-fiche-de-consultation-ou-de-visite_PAT-TROIS_DOMINIQUE_1234567890121.pdf');
    expect(companionPdfName(b.parsed, { dossier: '../../etc/x' })).not.toMatch(/[/\\]|\.\./);
    expect(xdmSubject([b.parsed])).toBe('XDM/1.0/DDM+CR ou fiche de consultation ou de visite PAT-TROIS DOMINIQUE 28/03/1979');
    expect(xdmSubject([b.parsed, b.parsed])).toMatch(/^XDM\/1\.0\/DDM\+2 documents PAT-TROIS/);
  });
});
