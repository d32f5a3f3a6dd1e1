import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Element } from '@xmldom/xmldom';
import { serializeXml } from '../../xml/safe-xml';
import {
  buildAssociation, buildExtrinsicObject, maskingOf, parseRegistryObjectList, xcnId, xonId,
  type Association, type DocumentEntry,
} from '../ebrim';
import { DMP_ERRORS, type DmpErrorCode } from '../faults';
import { buildMtom, cidOfHref, contentTypeParams, newCid, parseMultipart, xopInclude } from '../mtom';
import {
  ACTIONS, ASSOCIATION, NS, SERVICE_OF, SIGNATURE_ENTRY, STATUS, STORED_QUERY, parsePatientId, patientIdOf, responseAction,
  type DmpAction,
} from '../protocol';
import { validateXdsBody } from '../schema';
import { buildFault, buildResponseEnvelope, parseEnvelope, SOAP_CONTENT_TYPE, type ParsedEnvelope } from '../soap';
import { buildTd02Response, buildTd03Response, parseTd02Request, parseTd03Request } from '../td0';
import { REQUIRED_ATTRS, assertionXmlOf, dnOf, parseVihf, type VihfClaims } from '../vihf';
import { WIRE_PROFILE } from '../wire-profile';
import {
  buildAdhocQueryResponse, buildRegistryResponse, parseAdhocQuery, parseRetrieveRequest, type RegistryErrorItem,
} from '../xds-messages';
import { attr, child, children, descendants, dtm, text } from '../xml-util';
import { certChainOk, certsOfPem, digestFor, verifyAssertionSignature, verifySubmissionXades } from '../xmlsig';
import { DmpStore, type StoredEntry } from './store';

/**
 * The DMP test server: the four DMP services over HTTPS with client-certificate authentication, checking
 * what the real service checks (VIHF, schemas, XAdES, business rules) and answering with faults shaped like
 * its own. State in SQLite.
 */

export interface DmpServerOptions {
  host?: string;
  port: number;
  dbFile: string;
  schemaDir: string;
  tls: { cert: string; key: string; ca: string };
  /** Clock skew tolerated on VIHF validity, ms. */
  skewMs?: number;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  repositoryUniqueId?: string;
}

export const BASE_PATH = '/si-dmp-server/v2/services/';

/** A rule failure: becomes a SOAP fault or a RegistryError depending on the transaction. */
class Refusal extends Error {
  constructor(readonly code: DmpErrorCode, readonly detail: string) {
    super(`${code}: ${detail}`);
  }
}

const refuse = (code: DmpErrorCode, detail: string): never => {
  throw new Refusal(code, detail);
};

interface Caller {
  vihf: VihfClaims;
  tlsCert: X509Certificate;
  ins: string;
  insOid: string;
}

interface Reply {
  contentType: string;
  body: Buffer | string;
  status?: number;
}

export class DmpTestServer {
  readonly store: DmpStore;
  private server?: https.Server;
  private readonly trust: X509Certificate[];
  private readonly repositoryUniqueId: string;
  /** Test hooks: delay before answering an action (network-cut simulation), counted calls. */
  readonly hooks: { delayMs?: Partial<Record<string, number>>; dropAfterProcessing?: Partial<Record<string, number>> } = {};
  readonly calls: Record<string, number> = {};

  constructor(private readonly opts: DmpServerOptions) {
    this.store = new DmpStore(opts.dbFile);
    this.trust = certsOfPem(fs.readFileSync(opts.tls.ca, 'utf8'));
    this.repositoryUniqueId = opts.repositoryUniqueId ?? WIRE_PROFILE.testRepositoryUniqueId;
  }

  get url(): string {
    const addr = this.server?.address();
    const port = addr && typeof addr === 'object' ? addr.port : this.opts.port;
    return `https://${this.opts.host ?? '127.0.0.1'}:${port}${BASE_PATH}`;
  }

  async start(): Promise<string> {
    this.server = https.createServer(
      {
        cert: fs.readFileSync(this.opts.tls.cert),
        key: fs.readFileSync(this.opts.tls.key),
        ca: fs.readFileSync(this.opts.tls.ca),
        requestCert: true,
        // The certificate is checked below so that a refused one gets an explicit SOAP fault.
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    this.server.requestTimeout = 120_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    this.store.close();
  }

  private log(line: string): void {
    this.opts.log?.(`${new Date().toISOString()} ${line}`);
  }

  private async handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    let relatesTo: string | undefined;
    let action = '';
    const send = (r: Reply): void => {
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(r.status ?? 200, { 'Content-Type': r.contentType });
      res.end(r.body);
    };
    try {
      if (req.url === '/health') return send({ contentType: 'text/plain', body: 'ok' });
      if (req.method !== 'POST' || !req.url?.startsWith(BASE_PATH)) {
        return send({ status: 404, contentType: 'text/plain', body: 'not found' });
      }
      const service = req.url.slice(BASE_PATH.length).split(/[/?]/)[0] ?? '';
      // The client certificate first: nothing from an unauthenticated peer is parsed.
      const tlsCert = this.peerCertificate(req.socket as TLSSocket);
      const chunks: Buffer[] = [];
      let total = 0;
      const max = this.opts.maxBodyBytes ?? 200 * 1024 * 1024;
      for await (const c of req) {
        total += (c as Buffer).length;
        if (total > max) return send({ status: 413, contentType: 'text/plain', body: 'too large' });
        chunks.push(c as Buffer);
      }
      const raw = Buffer.concat(chunks);
      const ct = req.headers['content-type'] ?? '';
      const { type } = contentTypeParams(ct);
      let envelopeBytes: Buffer;
      let parts = new Map<string, { contentType: string; data: Buffer }>();
      const mtom = type === 'multipart/related';
      if (mtom) {
        const mp = parseMultipart(ct, raw);
        envelopeBytes = mp.root;
        parts = mp.parts;
      } else if (type === SOAP_CONTENT_TYPE) {
        envelopeBytes = raw;
      } else {
        return send({ status: 415, contentType: 'text/plain', body: `unsupported content type ${type}` });
      }
      let env: ParsedEnvelope;
      try {
        env = parseEnvelope(envelopeBytes);
      } catch (err) {
        throw new Refusal('DMP_SCHEMA_INVALID', `envelope: ${(err as Error).message}`);
      }
      relatesTo = env.messageId;
      action = env.action ?? '';
      this.calls[action] = (this.calls[action] ?? 0) + 1;
      this.log(`${service} ${action} mtom=${mtom} bytes=${raw.length}`);
      if (!env.messageId || !env.to || !env.action) refuse('DMP_SCHEMA_INVALID', 'WS-Addressing Action, MessageID and To are required');
      if (!Object.values(ACTIONS).includes(action as DmpAction)) refuse('DMP_ACTION_UNKNOWN', `action ${action}`);
      if (SERVICE_OF[action as DmpAction] !== service) refuse('DMP_ACTION_UNKNOWN', `action ${action} is not served by ${service}`);
      const caller = this.authenticate(tlsCert, env);
      const reply = await this.dispatch(action as DmpAction, env, parts, mtom, caller);
      const delay = this.hooks.delayMs?.[action];
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const drop = this.hooks.dropAfterProcessing?.[action];
      if (drop && drop > 0) {
        this.hooks.dropAfterProcessing![action] = drop - 1;
        req.socket.destroy();
        return;
      }
      send(reply);
    } catch (err) {
      if (err instanceof Refusal) {
        this.log(`refused ${action}: ${err.code} ${err.detail}`);
        return send({ status: 500, contentType: SOAP_CONTENT_TYPE, body: buildFault(err.code, err.detail, relatesTo) });
      }
      this.log(`internal error: ${(err as Error).stack ?? String(err)}`);
      send({ status: 500, contentType: SOAP_CONTENT_TYPE, body: buildFault('DMP_INTERNAL', (err as Error).message, relatesTo, true) });
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Security: TLS client certificate + VIHF

  private peerCertificate(socket: TLSSocket): X509Certificate {
    const peer = socket.getPeerX509Certificate?.();
    if (!peer) return refuse('DMP_CERT_INVALID', 'no client certificate');
    const chain = certChainOk(peer, this.trust);
    if (chain) refuse('DMP_CERT_INVALID', `TLS client certificate: ${chain}`);
    return peer;
  }

  private authenticate(tlsCert: X509Certificate, env: ParsedEnvelope): Caller {
    if (!env.assertion) refuse('DMP_VIHF_INVALID', 'wsse:Security/saml2:Assertion missing');
    const assertion = env.assertion!;
    const vihf = parseVihf(assertion);
    const missing = REQUIRED_ATTRS.filter((a) => !(vihf.attributes.get(a)?.length));
    if (missing.length) refuse('DMP_VIHF_INVALID', `missing VIHF attributes: ${missing.join(', ')}`);
    if (text(vihf.attributes.get('VIHF_Version')?.[0]) !== '3.0') refuse('DMP_VIHF_INVALID', 'VIHF_Version must be 3.0');
    if (!vihf.issuer || !vihf.nameId || !vihf.id) refuse('DMP_VIHF_INVALID', 'Issuer, Subject/NameID and ID are required');
    if (!vihf.mode) refuse('DMP_VIHF_INVALID', 'Authentification_Mode must be DIRECTE, INDIRECTE or INDIRECTE_RENFORCEE');
    if (!vihf.patient) refuse('DMP_VIHF_INVALID', 'resource-id is not <INS>^^^&<OID>&ISO^NH');
    if (!vihf.roles.length) refuse('DMP_VIHF_INVALID', 'subject:role without Role value');
    if (!vihf.notBefore || !vihf.notOnOrAfter) refuse('DMP_VIHF_INVALID', 'Conditions NotBefore/NotOnOrAfter required');
    const now = Date.now();
    const skew = this.opts.skewMs ?? 120_000;
    if (now + skew < vihf.notBefore!.getTime() || now - skew >= vihf.notOnOrAfter!.getTime()) {
      refuse('DMP_VIHF_EXPIRED', `VIHF valid from ${vihf.notBefore!.toISOString()} to ${vihf.notOnOrAfter!.toISOString()}, now ${new Date(now).toISOString()}`);
    }
    const indirect = vihf.mode !== 'DIRECTE';
    if (indirect && !vihf.signed) refuse('DMP_VIHF_SIGNATURE', 'the VIHF must be signed in indirect mode');
    if (vihf.signed) {
      const check = verifyAssertionSignature(assertionXmlOf(assertion));
      if (!check.valid) refuse('DMP_VIHF_SIGNATURE', check.reason ?? 'invalid');
      const chainSig = certChainOk(check.cert!, this.trust);
      if (chainSig) refuse('DMP_VIHF_SIGNATURE', `signing certificate: ${chainSig}`);
      if (dnOf(check.cert!) !== vihf.issuer) refuse('DMP_VIHF_INVALID', `Issuer "${vihf.issuer}" is not the signing certificate's DN "${dnOf(check.cert!)}"`);
      if (indirect && !subjectHas(check.cert!, vihf.structureId!)) refuse('DMP_AUTH_STRUCTURE', 'the signing certificate does not belong to Identifiant_Structure');
    }
    if (indirect && !subjectHas(tlsCert, vihf.structureId!)) {
      refuse('DMP_AUTH_STRUCTURE', `Identifiant_Structure ${vihf.structureId} does not match the TLS certificate ${tlsCert.subject.replace(/\n/g, ',')}`);
    }
    if (!indirect && !subjectHas(tlsCert, vihf.nameId)) refuse('DMP_SECURITY', 'direct mode: NameID does not match the card certificate');
    return { vihf, tlsCert, ins: vihf.patient!.ins, insOid: vihf.patient!.insOid };
  }

  /** The patient's DMP must exist and be active, and the caller authorized (TD2.1/TD3.x). */
  private requireAccess(c: Caller): void {
    const p = this.store.patient(c.ins);
    if (!p || p.dmp === 'INEXISTANT' || p.insOid !== c.insOid) refuse('DMP_PATIENT_UNKNOWN', `INS ${c.ins} (${c.insOid})`);
    if (p!.dmp === 'FERME') refuse('DMP_CLOSED', `DMP ${c.ins} closed${p!.closureDate ? ` on ${p!.closureDate}` : ''}`);
    if (c.vihf.purposeOfUse === 'bris_de_glace' && WIRE_PROFILE.rules.breakGlassBypassesAuthorization) return;
    const a = this.store.authorization(c.ins, c.vihf.nameId);
    if (a.state === 'NON_EXISTE') refuse('DMP_NO_AUTHORIZATION', `no authorization for ${c.vihf.nameId} on ${c.ins}`);
    if (a.state === 'EXPIRE') refuse('DMP_AUTHORIZATION_EXPIRED', `authorization of ${c.vihf.nameId} expired on ${a.expiresAt}`);
    if (a.state === 'INTERDIT') refuse('DMP_AUTHORIZATION_FORBIDDEN', `${c.vihf.nameId} is blocked by the patient`);
  }

  // -------------------------------------------------------------------------------------------------------

  private async dispatch(action: DmpAction, env: ParsedEnvelope, parts: Map<string, { contentType: string; data: Buffer }>, mtom: boolean, c: Caller): Promise<Reply> {
    const payload = env.payload;
    if (!payload) refuse('DMP_SCHEMA_INVALID', 'empty SOAP Body');
    const soap = (body: string): Reply => ({ contentType: SOAP_CONTENT_TYPE, body: buildResponseEnvelope(responseAction(action), env.messageId, body) });
    switch (action) {
      case ACTIONS.td02:
        return soap(this.td02(payload!, c));
      case ACTIONS.td03:
        return soap(this.td03(payload!, c));
      case ACTIONS.td21:
        return soap(await this.td21(payload!, parts, mtom, c));
      case ACTIONS.td31:
        return soap(await this.td31(payload!, c));
      case ACTIONS.td32:
        return this.td32(payload!, c, env.messageId);
      case ACTIONS.td33:
        return soap(await this.td33(payload!, c));
    }
    return refuse('DMP_ACTION_UNKNOWN', action);
  }

  private td02(payload: Element, c: Caller): string {
    let q: { ins: string; insOid: string };
    try {
      q = parseTd02Request(payload);
    } catch (err) {
      return refuse('DMP_SCHEMA_INVALID', `TD0.2: ${(err as Error).message}`);
    }
    if (q.ins !== c.ins) refuse('DMP_PATIENT_MISMATCH', `query INS ${q.ins} ≠ VIHF resource-id ${c.ins}`);
    const p = this.store.patient(q.ins);
    const exists = p && p.dmp !== 'INEXISTANT' && p.insOid === q.insOid;
    const auth = exists ? this.store.authorization(q.ins, c.vihf.nameId).state : 'NON_EXISTE';
    return buildTd02Response(undefined, {
      ins: q.ins,
      insOid: q.insOid,
      dmp: exists ? p.dmp : 'INEXISTANT',
      authorization: auth,
      treatingPhysician: !!exists && p.treatingPhysicians.includes(c.vihf.nameId),
      ...(exists ? { patientWebAccess: p.webAccess } : {}),
      ...(exists && p.closureDate ? { closureDate: p.closureDate } : {}),
      ...(exists && p.closureReason ? { closureReason: p.closureReason } : {}),
    });
  }

  private td03(payload: Element, c: Caller): string {
    let r: { remove: boolean };
    try {
      r = parseTd03Request(payload);
    } catch (err) {
      return refuse('DMP_SCHEMA_INVALID', `TD0.3: ${(err as Error).message}`);
    }
    const p = this.store.patient(c.ins);
    if (!p || p.dmp === 'INEXISTANT') refuse('DMP_PATIENT_UNKNOWN', `INS ${c.ins}`);
    if (p!.dmp === 'FERME') refuse('DMP_CLOSED', `DMP ${c.ins} closed`);
    const current = this.store.authorization(c.ins, c.vihf.nameId);
    if (current.state === 'INTERDIT') refuse('DMP_AUTHORIZATION_FORBIDDEN', `${c.vihf.nameId} is blocked by the patient`);
    if (r.remove) {
      this.store.setAuthorization(c.ins, c.vihf.nameId, null);
      return buildTd03Response('OK');
    }
    const expires = new Date(Date.now() + WIRE_PROFILE.authorizationDays * 86400_000).toISOString();
    this.store.setAuthorization(c.ins, c.vihf.nameId, 'VALIDE', expires);
    return buildTd03Response('OK', expires);
  }

  private async validateSchema(xml: string, what: string): Promise<void> {
    const r = await validateXdsBody(xml, this.opts.schemaDir);
    if (!r.valid) refuse('DMP_SCHEMA_INVALID', `${what}: ${r.errors.slice(0, 3).join(' | ')}`);
  }

  /** Whether the caller is an author of the entry (direct: authorPerson/legalAuthenticator; indirect: authorInstitution). */
  private isAuthor(c: Caller, de: DocumentEntry): boolean {
    if (c.vihf.mode === 'DIRECTE') {
      return de.authors.some((a) => a.person && xcnId(a.person) === c.vihf.nameId) || (!!de.legalAuthenticator && xcnId(de.legalAuthenticator) === c.vihf.nameId);
    }
    return de.authors.some((a) => a.institutions.some((i) => xonId(i) === c.vihf.structureId));
  }

  private isTreating(c: Caller): boolean {
    return this.store.patient(c.ins)?.treatingPhysicians.includes(c.vihf.nameId) ?? false;
  }

  /** MASQUE_PS entries are visible only to their authors and the treating physicians. */
  private visible(c: Caller, e: StoredEntry): boolean {
    if (!maskingOf(e.entry).includes('MASQUE_PS')) return true;
    return this.isAuthor(c, e.entry) || this.isTreating(c);
  }

  // -------------------------------------------------------------------------------------------------------
  // TD2.1 ProvideAndRegisterDocumentSet-b

  private async td21(payload: Element, parts: Map<string, { contentType: string; data: Buffer }>, mtom: boolean, c: Caller): Promise<string> {
    if (!mtom) refuse('DMP_MTOM_REQUIRED', 'ITI-41 must be sent as MTOM/XOP (multipart/related)');
    if (payload.namespaceURI !== NS.xdsb || payload.localName !== 'ProvideAndRegisterDocumentSetRequest') refuse('DMP_SCHEMA_INVALID', `unexpected ${payload.localName}`);
    // Resolve the XOP includes, then validate the logical (base64) form against the schema.
    const docs = new Map<string, Buffer>();
    for (const d of children(payload, NS.xdsb, 'Document')) {
      const inc = child(d, NS.xop, 'Include');
      const id = attr(d, 'id') ?? '';
      if (!inc) refuse('DMP_MTOM_REQUIRED', `Document ${id} is inline base64, not an xop:Include`);
      const part = parts.get(cidOfHref(attr(inc, 'href') ?? ''));
      if (!part) refuse('DMP_SCHEMA_INVALID', `Document ${id}: MIME part ${attr(inc, 'href')} missing`);
      docs.set(id, part!.data);
    }
    const logical = serializeXml(payload).replace(/<(\w+:)?Include\b[^>]*href="([^"]*)"[^>]*\/>/g, (_m, _p, href: string) => parts.get(cidOfHref(href))?.data.toString('base64') ?? '');
    await this.validateSchema(logical, 'ITI-41');
    this.requireAccess(c);
    const sor = child(payload, NS.lcm, 'SubmitObjectsRequest')!;
    const list = parseRegistryObjectList(child(sor, NS.rim, 'RegistryObjectList')!);
    if (list.sets.length !== 1) refuse('DMP_METADATA_INVALID', `exactly one SubmissionSet expected, got ${list.sets.length}`);
    const ss = list.sets[0]!;
    const pid = patientIdOf(c.ins, c.insOid);
    if (ss.patientId !== pid) refuse('DMP_PATIENT_MISMATCH', `SubmissionSet patientId ${ss.patientId} ≠ ${pid}`);
    if (!ss.uniqueId || !ss.sourceId || !ss.submissionTime) refuse('DMP_METADATA_INVALID', 'SubmissionSet uniqueId, sourceId and submissionTime are required');
    if (this.store.hasSubmissionSet(ss.uniqueId)) refuse('DMP_DUPLICATE_UNIQUEID', `SubmissionSet ${ss.uniqueId} already registered`);
    if (!list.entries.length) refuse('DMP_METADATA_INVALID', 'no DocumentEntry');

    const isSig = (de: DocumentEntry): boolean => de.formatCode?.code === SIGNATURE_ENTRY.formatCode.code;
    const sigEntries = list.entries.filter(isSig);
    const docEntries = list.entries.filter((e) => !isSig(e));
    if (sigEntries.length !== 1) refuse('DMP_SIGNATURE_INVALID', `exactly one signature DocumentEntry expected, got ${sigEntries.length}`);
    const sigEntry = sigEntries[0]!;
    if (!list.associations.some((a) => a.type === ASSOCIATION.signs && a.source === sigEntry.entryUuid && a.target === ss.entryUuid)) {
      refuse('DMP_SIGNATURE_INVALID', 'no "signs" association from the signature entry to the SubmissionSet');
    }
    for (const code of SIGNATURE_ENTRY.confidentiality) {
      if (!sigEntry.confidentialityCodes.some((x) => x.code === code)) refuse('DMP_METADATA_INVALID', `signature entry must carry confidentiality ${code}`);
    }
    if (!docEntries.length) refuse('DMP_METADATA_INVALID', 'no document besides the signature');

    for (const de of list.entries) {
      const where = `DocumentEntry ${de.entryUuid} (${de.uniqueId})`;
      const data = docs.get(de.entryUuid);
      if (!data) refuse('DMP_METADATA_INVALID', `${where}: no xdsb:Document with this id`);
      if (de.patientId !== pid) refuse('DMP_PATIENT_MISMATCH', `${where}: patientId ${de.patientId} ≠ ${pid}`);
      const missing = (
        [
          ['uniqueId', de.uniqueId], ['creationTime', de.creationTime], ['classCode', de.classCode?.code], ['typeCode', de.typeCode?.code],
          ['formatCode', de.formatCode?.code], ['healthcareFacilityTypeCode', de.healthcareFacilityTypeCode?.code],
          ['practiceSettingCode', de.practiceSettingCode?.code], ['languageCode', de.languageCode], ['hash', de.hash], ['size', de.size],
          ['author', de.authors.length ? 'x' : ''], ['sourcePatientId', de.sourcePatientId],
        ] as [string, unknown][]
      ).filter(([, v]) => v === undefined || v === '');
      if (missing.length) refuse('DMP_METADATA_INVALID', `${where}: missing ${missing.map(([k]) => k).join(', ')}`);
      if (!de.confidentialityCodes.some((x) => ['N', 'R', 'V'].includes(x.code))) refuse('DMP_METADATA_INVALID', `${where}: confidentialityCode N/R/V required`);
      const sha1 = crypto.createHash('sha1').update(data!).digest('hex');
      if (de.hash!.toLowerCase() !== sha1) refuse('DMP_HASH_MISMATCH', `${where}: hash ${de.hash} ≠ ${sha1}`);
      if (de.size !== data!.length) refuse('DMP_HASH_MISMATCH', `${where}: size ${de.size} ≠ ${data!.length}`);
      const dup = this.store.currentByUniqueId(de.uniqueId);
      if (dup) refuse('DMP_DUPLICATE_UNIQUEID', `${where}: uniqueId already registered`);
      if (!isSig(de) && !this.isAuthor(c, de)) {
        refuse('DMP_NOT_AUTHOR', c.vihf.mode === 'DIRECTE' ? `${where}: NameID ${c.vihf.nameId} is no authorPerson` : `Aucun AuthorInstitution ne correspond à l'utilisateur du VIHF (${c.vihf.structureId})`);
      }
    }

    // XAdES: valid, by a trusted certificate, and its manifest = the set + every document, digests matching.
    const xades = docs.get(sigEntry.entryUuid)!.toString('utf8');
    let check: ReturnType<typeof verifySubmissionXades>;
    try {
      check = verifySubmissionXades(xades);
    } catch (err) {
      return refuse('DMP_SIGNATURE_INVALID', `unreadable XAdES: ${(err as Error).message}`);
    }
    if (!check.valid) refuse('DMP_SIGNATURE_INVALID', check.reason ?? 'invalid');
    const chain = certChainOk(check.cert!, this.trust);
    if (chain) refuse('DMP_SIGNATURE_INVALID', `signing certificate: ${chain}`);
    const expected = new Map<string, Buffer>([[`urn:oid:${ss.uniqueId}`, WIRE_PROFILE.xades.setDigestInput(ss.uniqueId)]]);
    for (const de of docEntries) expected.set(`urn:oid:${de.uniqueId}`, docs.get(de.entryUuid)!);
    if (check.manifest.length !== expected.size) refuse('DMP_SIGNATURE_INVALID', `manifest lists ${check.manifest.length} references, expected ${expected.size}`);
    for (const ref of check.manifest) {
      const data = expected.get(ref.uri);
      if (!data) refuse('DMP_SIGNATURE_INVALID', `manifest reference ${ref.uri} is not part of the submission`);
      let digest: string;
      try {
        digest = digestFor(data!, ref.digestAlgorithm).toString('base64');
      } catch {
        return refuse('DMP_SIGNATURE_INVALID', `digest algorithm ${ref.digestAlgorithm}`);
      }
      if (digest !== ref.digest) refuse('DMP_SIGNATURE_INVALID', `digest of ${ref.uri} does not match the submitted content`);
    }

    // Replacements: the target must be the current approved version, and the caller an author of it too.
    const rplc = list.associations.filter((a) => a.type === ASSOCIATION.rplc);
    const replaced: StoredEntry[] = [];
    for (const a of rplc) {
      if (!docEntries.some((d) => d.entryUuid === a.source)) refuse('DMP_METADATA_INVALID', `RPLC source ${a.source} is not a submitted entry`);
      const old = this.store.entry(a.target);
      if (!old || old.ins !== c.ins) refuse('DMP_DOCUMENT_UNKNOWN', `RPLC target ${a.target}`);
      if (old!.status !== STATUS.approved) refuse('DMP_REPLACED_NOT_CURRENT', `RPLC target ${a.target} is ${old!.status}`);
      if (!this.isAuthor(c, old!.entry)) refuse('DMP_NOT_AUTHOR', `the replaced document ${old!.uniqueId} was not authored by the caller`);
      replaced.push(old!);
    }

    // Store, atomically.
    const ids = new Map<string, string>();
    const uuidOf = (id: string): string => ids.get(id) ?? id;
    for (const de of list.entries) ids.set(de.entryUuid, de.entryUuid.startsWith('urn:uuid:') ? de.entryUuid : `urn:uuid:${crypto.randomUUID()}`);
    ids.set(ss.entryUuid, ss.entryUuid.startsWith('urn:uuid:') ? ss.entryUuid : `urn:uuid:${crypto.randomUUID()}`);
    this.store.tx(() => {
      this.store.insertSubmissionSet({ ...ss, entryUuid: uuidOf(ss.entryUuid) }, c.ins);
      for (const de of list.entries) {
        const entryUuid = uuidOf(de.entryUuid);
        const entry: DocumentEntry = { ...de, entryUuid, status: STATUS.approved, repositoryUniqueId: this.repositoryUniqueId, logicalId: entryUuid, version: '1' };
        this.store.insertEntry({
          entryUuid, uniqueId: de.uniqueId, logicalId: entryUuid, version: 1, ins: c.ins, status: STATUS.approved, isSignature: isSig(de),
          submitter: c.vihf.nameId, submitterStructure: c.vihf.structureId ?? '', everVisibleToPatient: !maskingOf(de).includes('INVISIBLE_PATIENT'), entry,
        });
        this.store.putDocument(de.uniqueId, de.mimeType, docs.get(de.entryUuid)!);
      }
      for (const a of list.associations) {
        this.store.insertAssociation({ ...a, id: a.id.startsWith('urn:uuid:') ? a.id : `urn:uuid:${crypto.randomUUID()}`, source: uuidOf(a.source), target: uuidOf(a.target) });
      }
      for (const old of replaced) this.store.setStatus(old.entryUuid, STATUS.deprecated);
    });
    return buildRegistryResponse();
  }

  // -------------------------------------------------------------------------------------------------------
  // TD3.1 RegistryStoredQuery

  private async td31(payload: Element, c: Caller): Promise<string> {
    if (payload.namespaceURI !== NS.query || payload.localName !== 'AdhocQueryRequest') refuse('DMP_SCHEMA_INVALID', `unexpected ${payload.localName}`);
    await this.validateSchema(serializeXml(payload), 'ITI-18');
    this.requireAccess(c);
    const q = parseAdhocQuery(payload);
    const one = (n: string): string | undefined => q.slots.get(n)?.[0]?.[0];
    const flat = (n: string): string[] => (q.slots.get(n) ?? []).flat();
    let found: StoredEntry[];
    const all = this.store.entriesOf(c.ins);
    const pid = patientIdOf(c.ins, c.insOid);
    if (q.id === STORED_QUERY.getDocuments) {
      const uuids = flat('$XDSDocumentEntryEntryUUID');
      const uids = flat('$XDSDocumentEntryUniqueId');
      if (!uuids.length && !uids.length) refuse('DMP_QUERY_INVALID', 'GetDocuments needs $XDSDocumentEntryEntryUUID or $XDSDocumentEntryUniqueId');
      found = all.filter((e) => uuids.includes(e.entryUuid) || uids.includes(e.uniqueId)).filter((e) => e.status !== STATUS.deleted);
    } else if (q.id === STORED_QUERY.findDocuments || q.id === STORED_QUERY.findDocumentsByReferenceId) {
      const qp = one('$XDSDocumentEntryPatientId');
      if (!qp) refuse('DMP_QUERY_INVALID', '$XDSDocumentEntryPatientId is required');
      if (qp !== pid) refuse('DMP_PATIENT_MISMATCH', `query patient ${qp} ≠ VIHF resource-id ${pid}`);
      const statuses = flat('$XDSDocumentEntryStatus');
      if (!statuses.length) refuse('DMP_QUERY_INVALID', '$XDSDocumentEntryStatus is required');
      const codeMatch = (n: string, get: (e: DocumentEntry) => { code: string; scheme: string }[]): ((e: StoredEntry) => boolean) => {
        const groups = q.slots.get(n);
        if (!groups?.length) return () => true;
        return (e) => groups.every((g) => g.some((v) => get(e.entry).some((x) => codeMatches(v, x))));
      };
      const filters: ((e: StoredEntry) => boolean)[] = [
        (e) => statuses.includes(e.status),
        codeMatch('$XDSDocumentEntryClassCode', (d) => (d.classCode ? [d.classCode] : [])),
        codeMatch('$XDSDocumentEntryTypeCode', (d) => (d.typeCode ? [d.typeCode] : [])),
        codeMatch('$XDSDocumentEntryPracticeSettingCode', (d) => (d.practiceSettingCode ? [d.practiceSettingCode] : [])),
        codeMatch('$XDSDocumentEntryHealthcareFacilityTypeCode', (d) => (d.healthcareFacilityTypeCode ? [d.healthcareFacilityTypeCode] : [])),
        codeMatch('$XDSDocumentEntryFormatCode', (d) => (d.formatCode ? [d.formatCode] : [])),
        codeMatch('$XDSDocumentEntryEventCodeList', (d) => d.eventCodes),
        codeMatch('$XDSDocumentEntryConfidentialityCode', (d) => d.confidentialityCodes),
        timeRange(one('$XDSDocumentEntryCreationTimeFrom'), one('$XDSDocumentEntryCreationTimeTo'), (d) => d.creationTime),
        timeRange(one('$XDSDocumentEntryServiceStartTimeFrom'), one('$XDSDocumentEntryServiceStartTimeTo'), (d) => d.serviceStartTime),
        timeRange(one('$XDSDocumentEntryServiceStopTimeFrom'), one('$XDSDocumentEntryServiceStopTimeTo'), (d) => d.serviceStopTime),
      ];
      const authors = flat('$XDSDocumentEntryAuthorPerson');
      if (authors.length) filters.push((e) => e.entry.authors.some((a) => !!a.person && authors.some((p) => likeMatch(p, a.person!))));
      if (q.id === STORED_QUERY.findDocumentsByReferenceId) {
        const refs = flat('$XDSDocumentEntryReferenceIdList');
        if (!refs.length) refuse('DMP_QUERY_INVALID', '$XDSDocumentEntryReferenceIdList is required');
        filters.push((e) => e.entry.referenceIds.some((r) => refs.some((x) => referenceIdMatches(x, r))));
      }
      found = all.filter((e) => filters.every((f) => f(e)));
    } else {
      return refuse('DMP_QUERY_INVALID', `unknown stored query ${q.id}`);
    }
    found = found.filter((e) => this.visible(c, e));
    const xml = q.returnType === 'ObjectRef' ? found.map((e) => `<rim:ObjectRef id="${e.entryUuid}"/>`).join('') : found.map((e) => buildExtrinsicObject(e.entry)).join('');
    return buildAdhocQueryResponse(xml);
  }

  // -------------------------------------------------------------------------------------------------------
  // TD3.2 RetrieveDocumentSet (MTOM response)

  private td32(payload: Element, c: Caller, relatesTo?: string): Reply {
    if (payload.namespaceURI !== NS.xdsb || payload.localName !== 'RetrieveDocumentSetRequest') refuse('DMP_SCHEMA_INVALID', `unexpected ${payload.localName}`);
    this.requireAccess(c);
    const reqs = parseRetrieveRequest(payload);
    if (!reqs.length) refuse('DMP_QUERY_INVALID', 'no DocumentRequest');
    const attachments: { cid: string; contentType: string; data: Buffer }[] = [];
    const responses: string[] = [];
    const errors: RegistryErrorItem[] = [];
    for (const r of reqs) {
      const e = this.store.currentByUniqueId(r.uniqueId);
      const doc = this.store.document(r.uniqueId);
      if (r.repositoryUniqueId !== this.repositoryUniqueId || !e || e.ins !== c.ins || e.status === STATUS.deleted || !doc || !this.visible(c, e)) {
        errors.push({ code: 'DMP_DOCUMENT_UNKNOWN', context: DMP_ERRORS.DMP_DOCUMENT_UNKNOWN, location: r.uniqueId });
        continue;
      }
      const cid = newCid();
      attachments.push({ cid, contentType: doc.mimeType, data: doc.data });
      responses.push(
        `<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>${this.repositoryUniqueId}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${r.uniqueId}</xdsb:DocumentUniqueId>` +
          `<xdsb:mimeType>${doc.mimeType}</xdsb:mimeType><xdsb:Document>${xopInclude(cid)}</xdsb:Document></xdsb:DocumentResponse>`,
      );
    }
    const status = !errors.length ? 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success' : responses.length ? 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess' : 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure';
    const rr = buildRegistryResponse(errors).replace(/status="[^"]*"/, `status="${status}"`);
    const body = `<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="${NS.xdsb}">${rr}${responses.join('')}</xdsb:RetrieveDocumentSetResponse>`;
    const env = buildResponseEnvelope(responseAction(ACTIONS.td32), relatesTo, body);
    const m = buildMtom(env, attachments, responseAction(ACTIONS.td32));
    return { contentType: m.contentType, body: m.body };
  }

  // -------------------------------------------------------------------------------------------------------
  // TD3.3 UpdateDocumentSet (status changes; metadata update = new version)

  private async td33(payload: Element, c: Caller): Promise<string> {
    if (payload.namespaceURI !== NS.lcm || payload.localName !== 'SubmitObjectsRequest') refuse('DMP_SCHEMA_INVALID', `unexpected ${payload.localName}`);
    await this.validateSchema(serializeXml(payload), 'ITI-57');
    this.requireAccess(c);
    const list = parseRegistryObjectList(child(payload, NS.rim, 'RegistryObjectList')!);
    if (list.sets.length !== 1) refuse('DMP_METADATA_INVALID', `exactly one SubmissionSet expected, got ${list.sets.length}`);
    const ss = list.sets[0]!;
    const pid = patientIdOf(c.ins, c.insOid);
    if (ss.patientId !== pid) refuse('DMP_PATIENT_MISMATCH', `SubmissionSet patientId ${ss.patientId} ≠ ${pid}`);
    const ops: (() => void)[] = [];
    for (const a of list.associations.filter((x) => x.type === ASSOCIATION.updateAvailabilityStatus)) {
      const e = this.store.entry(a.target);
      if (!e || e.ins !== c.ins || !this.visible(c, e)) refuse('DMP_DOCUMENT_UNKNOWN', `entry ${a.target}`);
      const from = a.slots?.['OriginalStatus']?.[0];
      const to = a.slots?.['NewStatus']?.[0];
      if (!from || !to) refuse('DMP_METADATA_INVALID', 'OriginalStatus and NewStatus slots are required');
      if (from !== e!.status) refuse('DMP_STATUS_TRANSITION', `OriginalStatus ${from} ≠ current ${e!.status}`);
      const allowed: Record<string, string[]> = {
        [STATUS.approved]: [STATUS.archived, STATUS.deleted],
        [STATUS.archived]: [STATUS.approved, STATUS.deleted],
      };
      if (!allowed[from!]?.includes(to!)) refuse('DMP_STATUS_TRANSITION', `${from} → ${to}`);
      if (to === STATUS.deleted && !this.isAuthor(c, e!.entry)) refuse('DMP_NOT_AUTHOR', `only an author may delete ${e!.uniqueId}`);
      ops.push(() => this.store.setStatus(e!.entryUuid, to!));
    }
    const members = list.associations.filter((x) => x.type === ASSOCIATION.hasMember && x.source === ss.entryUuid);
    for (const de of list.entries) {
      const m = members.find((x) => x.target === de.entryUuid);
      const prev = m?.slots?.[WIRE_PROFILE.td33.previousVersionSlot]?.[0];
      if (!m || !prev) refuse('DMP_METADATA_INVALID', `metadata update of ${de.uniqueId}: HasMember with slot ${WIRE_PROFILE.td33.previousVersionSlot} required`);
      const old = this.store.currentByUniqueId(de.uniqueId);
      if (!old || old.ins !== c.ins || !this.visible(c, old)) refuse('DMP_DOCUMENT_UNKNOWN', `uniqueId ${de.uniqueId}`);
      if (de.logicalId !== old!.logicalId) refuse('DMP_METADATA_INVALID', `lid ${de.logicalId} ≠ ${old!.logicalId}`);
      if (String(old!.version) !== prev) refuse('DMP_REPLACED_NOT_CURRENT', `PreviousVersion ${prev} ≠ current ${old!.version}`);
      if (old!.status !== STATUS.approved && old!.status !== STATUS.archived) refuse('DMP_STATUS_TRANSITION', `cannot update a ${old!.status} entry`);
      if (de.hash !== old!.entry.hash || de.size !== old!.entry.size || de.patientId !== old!.entry.patientId) refuse('DMP_METADATA_INVALID', 'hash, size and patientId cannot change');
      const author = this.isAuthor(c, old!.entry);
      if (!author && !(WIRE_PROFILE.rules.treatingPhysicianMayMask && this.isTreating(c))) refuse('DMP_NOT_AUTHOR', `only an author may change the visibility of ${de.uniqueId}`);
      const newMask = maskingOf(de);
      if (WIRE_PROFILE.rules.invisiblePatientIrreversible && old!.everVisibleToPatient && newMask.includes('INVISIBLE_PATIENT')) {
        refuse('DMP_STATUS_TRANSITION', 'a document already visible to the patient cannot be made invisible to them again');
      }
      if (!de.confidentialityCodes.some((x) => ['N', 'R', 'V'].includes(x.code))) refuse('DMP_METADATA_INVALID', 'confidentialityCode N/R/V required');
      ops.push(() => {
        const entryUuid = de.entryUuid.startsWith('urn:uuid:') ? de.entryUuid : `urn:uuid:${crypto.randomUUID()}`;
        const version = old!.version + 1;
        this.store.insertEntry({
          ...old!, entryUuid, version, status: old!.status, everVisibleToPatient: old!.everVisibleToPatient || !newMask.includes('INVISIBLE_PATIENT'),
          entry: { ...old!.entry, confidentialityCodes: de.confidentialityCodes, entryUuid, version: String(version), status: old!.status },
        });
        this.store.setStatus(old!.entryUuid, STATUS.deprecated);
      });
    }
    if (!ops.length) refuse('DMP_METADATA_INVALID', 'nothing to update');
    this.store.tx(() => {
      this.store.insertSubmissionSet({ ...ss, entryUuid: ss.entryUuid.startsWith('urn:uuid:') ? ss.entryUuid : `urn:uuid:${crypto.randomUUID()}` }, c.ins);
      for (const op of ops) op();
    });
    return buildRegistryResponse();
  }

  /** What the patient (or a legal representative) sees in their space: for tests of the visibility rules. */
  patientView(ins: string, legalRep = false): string[] {
    return this.store
      .entriesOf(ins)
      .filter((e) => e.status === STATUS.approved && !e.isSignature)
      .filter((e) => !maskingOf(e.entry).includes('INVISIBLE_PATIENT') && !(legalRep && maskingOf(e.entry).includes('INVISIBLE_REPRESENTANTS_LEGAUX')))
      .map((e) => e.uniqueId);
  }
}

function subjectHas(cert: X509Certificate, value: string): boolean {
  return cert.subject.split('\n').some((rdn) => {
    const v = rdn.slice(rdn.indexOf('=') + 1);
    return v === value || v.split(/[\s/]/).includes(value);
  });
}

/** `code^^scheme` query value against a coded value. */
function codeMatches(v: string, x: { code: string; scheme: string }): boolean {
  const [code, , scheme] = v.split('^');
  return code === x.code && (!scheme || scheme === x.scheme);
}

function likeMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('%').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '.')).join('.*')}$`);
  return re.test(value);
}

/** CX reference id: value + type must match; the assigning authority only if the query gives one. */
function referenceIdMatches(query: string, stored: string): boolean {
  const [qv, , , qa = '', qt = ''] = query.split('^');
  const [sv, , , sa = '', st = ''] = stored.split('^');
  return qv === sv && (!qt || qt === st) && (!qa || qa === sa);
}

function timeRange(from: string | undefined, to: string | undefined, get: (d: DocumentEntry) => string | undefined): (e: StoredEntry) => boolean {
  if (!from && !to) return () => true;
  return (e) => {
    const v = get(e.entry);
    if (!v) return false;
    const pad = (s: string): string => s.padEnd(14, '0');
    return (!from || pad(v) >= pad(from)) && (!to || pad(v) < pad(to));
  };
}

export { buildAssociation, descendants, dtm, parsePatientId };
export type { Association };
