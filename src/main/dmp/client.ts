import crypto from 'node:crypto';
import { AppError } from '../core/errors';
import { maskingOf, type DocumentEntry, type XdsAuthor } from './ebrim';
import { DmpError, dmpError } from './faults';
import { entryFromDocuments } from './metadata';
import { buildMtom, contentTypeParams, parseMultipart } from './mtom';
import { ACTIONS, OID, SERVICE_OF, STATUS, patientIdOf, type DmpAction, type MaskingCode, type StatusName } from './protocol';
import { validateXdsBody } from './schema';
import { buildRequestEnvelope, faultOf, parseEnvelope, SOAP_CONTENT_TYPE, type ParsedEnvelope } from './soap';
import { buildMetadataUpdate, buildProvideAndRegister, buildStatusUpdate, type StatusTarget } from './submission';
import { buildTd02Request, buildTd03Request, parseTd02Response, parseTd03Response, type DmpPatientStatus } from './td0';
import { ExchangeLog, NetworkError, post, TimeoutError, type TlsIdentity } from './transport';
import { buildVihf, dnOf, type VihfInput } from './vihf';
import {
  buildAdhocQuery, buildRetrieveRequest, checkRegistryResponse, parseAdhocQueryResponse, parseRetrieveResponse,
  type FindDocumentsParams, type QueryResult, type RetrieveResult, type ReturnType,
} from './xds-messages';
import { child } from './xml-util';
import { NS } from './protocol';
import type { DmpSigning } from './signing';

/** The DMP client: TD0.2, TD0.3, TD2.1 (+ replacement), TD3.1, TD3.2, TD3.3. */

export interface Patient {
  ins: string;
  insOid: string;
}

export interface DmpClientConfig {
  /** `…/si-dmp-server/v2/services/` */
  baseUrl: string;
  tls: TlsIdentity;
  /** Signs the VIHF (required in indirect mode, optional in direct mode) and the submission sets (XAdES). */
  signing: DmpSigning;
  /** Sign the VIHF in direct mode too (always signed in indirect modes). */
  signVihfInDirectMode?: boolean;
  vihf: Omit<VihfInput, 'patient' | 'now' | 'issuerDn'>;
  /** OID of this software installation (SubmissionSet.sourceId). */
  sourceId: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts for idempotent calls (TD0.2, TD0.3, TD3.1, TD3.2). */
  attempts?: number;
  logDir?: string;
  /** When set, every XDS request is validated against these schemas before it is sent. */
  schemaDir?: string;
  journal?: SubmissionJournal;
}

export interface JournalRecord {
  uniqueId: string;
  ins: string;
  state: 'pending' | 'done' | 'ambiguous' | 'failed';
  setUniqueId?: string;
  detail?: string;
}

/** Persistent record of submissions, so that a crash or a cut never leads to a duplicate or a silent loss. */
export interface SubmissionJournal {
  get(uniqueId: string): JournalRecord | undefined;
  put(record: JournalRecord): void;
}

export interface PublishOptions {
  masking?: MaskingCode[];
  /** uniqueId of the document this one replaces. */
  replaceUniqueId?: string;
  referenceIds?: string[];
}

export interface PublishResult {
  uniqueId: string;
  ins: string;
  setUniqueId?: string;
  replacedEntryUuid?: string;
  /** How the outcome was established. */
  outcome: 'published' | 'already-published' | 'confirmed-after-timeout' | 'resubmitted-after-timeout';
}

export interface SearchFilters {
  statuses?: StatusName[];
  typeCodes?: string[];
  classCodes?: string[];
  practiceSettingCodes?: string[];
  healthcareFacilityTypeCodes?: string[];
  formatCodes?: string[];
  confidentialityCodes?: string[];
  /** DICOM modality codes (CT, MR…): event codes of scheme 1.2.840.10008.2.16.4. */
  modalities?: string[];
  /** Anatomic region codes (SNOMED CT). */
  regions?: string[];
  eventCodes?: string[];
  accessionNumbers?: string[];
  referenceIds?: string[];
  authorPersons?: string[];
  creationFrom?: string;
  creationTo?: string;
  serviceStartFrom?: string;
  serviceStartTo?: string;
  serviceStopFrom?: string;
  serviceStopTo?: string;
}

export interface CallResult {
  env: ParsedEnvelope;
  parts: Map<string, { contentType: string; data: Buffer }>;
}

const isXds = (a: DmpAction): boolean => a === ACTIONS.td21 || a === ACTIONS.td31 || a === ACTIONS.td32 || a === ACTIONS.td33;

export class DmpClient {
  private readonly log: ExchangeLog;

  constructor(readonly cfg: DmpClientConfig) {
    this.log = new ExchangeLog(cfg.logDir);
  }

  private url(action: DmpAction): string {
    return `${this.cfg.baseUrl.replace(/\/?$/, '/')}${SERVICE_OF[action]}`;
  }

  /** One SOAP exchange; idempotent calls are retried on network errors, never on an answer. */
  async call(action: DmpAction, patient: Patient, bodyXml: string, opts: { idempotent: boolean; attachments?: { cid: string; contentType: string; data: Buffer }[] }): Promise<CallResult> {
    if (this.cfg.schemaDir && isXds(action)) {
      const logical = bodyXml.replace(/<xop:Include\b[^>]*href="cid:([^"]*)"[^>]*\/>/g, (_m, cid: string) => opts.attachments?.find((a) => a.cid === decodeURIComponent(cid))?.data.toString('base64') ?? '');
      const r = await validateXdsBody(logical, this.cfg.schemaDir);
      if (!r.valid) throw dmpError('DMP_REQUEST_INVALID', r.errors.slice(0, 3).join(' | '));
    }
    const attempts = opts.idempotent ? Math.max(1, this.cfg.attempts ?? 3) : 1;
    let lastErr: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // A fresh VIHF and MessageID per attempt (validity window, WS-A uniqueness).
      const unsigned = buildVihf({ ...this.cfg.vihf, issuerDn: dnOf(this.cfg.signing.certPem), patient }).xml;
      const assertionXml = this.cfg.vihf.mode === 'DIRECTE' && !this.cfg.signVihfInDirectMode ? unsigned : await this.cfg.signing.signAssertion(unsigned);
      const { xml, messageId } = buildRequestEnvelope({ action, to: this.url(action), assertionXml, bodyXml });
      let contentType = SOAP_CONTENT_TYPE + `; charset=UTF-8; action="${action}"`;
      let body: Buffer | string = xml;
      if (opts.attachments) {
        const m = buildMtom(xml, opts.attachments, action);
        contentType = m.contentType;
        body = m.body;
      }
      this.log.write(action, messageId, 'request', xml, opts.attachments);
      try {
        const res = await post({
          url: this.url(action),
          contentType,
          body,
          tls: this.cfg.tls,
          connectTimeoutMs: this.cfg.connectTimeoutMs ?? 10_000,
          requestTimeoutMs: this.cfg.requestTimeoutMs ?? 60_000,
        });
        return this.readResponse(action, messageId, res.contentType, res.body, res.status);
      } catch (err) {
        lastErr = err;
        const retryable = (err instanceof TimeoutError || (err instanceof NetworkError && !err.tls)) && attempt < attempts;
        if (!retryable) break;
        await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
      }
    }
    throw this.transportError(lastErr);
  }

  private transportError(err: unknown): unknown {
    if (err instanceof TimeoutError) return Object.assign(dmpError('DMP_TIMEOUT', err.message), { sent: err.sent });
    if (err instanceof NetworkError) return Object.assign(dmpError(err.tls ? 'DMP_TLS' : 'DMP_NETWORK', err.message), { sent: err.sent });
    return err;
  }

  private readResponse(action: DmpAction, messageId: string, contentType: string, body: Buffer, status: number): CallResult {
    let root = body;
    let parts = new Map<string, { contentType: string; data: Buffer }>();
    if (contentTypeParams(contentType).type === 'multipart/related') {
      const mp = parseMultipart(contentType, body);
      root = mp.root;
      parts = mp.parts;
    } else if (contentTypeParams(contentType).type !== SOAP_CONTENT_TYPE) {
      throw dmpError('DMP_HTTP', `HTTP ${status}, ${contentType}: ${body.subarray(0, 200).toString('utf8')}`);
    }
    const xml = root.toString('utf8');
    this.log.write(action, messageId, 'response', xml, [...parts].map(([cid, p]) => ({ cid, data: p.data })));
    const env = parseEnvelope(root);
    const fault = faultOf(env);
    if (fault) throw fault;
    if (status >= 300) throw dmpError('DMP_HTTP', `HTTP ${status} without SOAP fault`);
    if (env.relatesTo && env.relatesTo !== messageId) throw dmpError('DMP_BAD_RESPONSE', `RelatesTo ${env.relatesTo} ≠ ${messageId}`);
    if (!env.payload) throw dmpError('DMP_BAD_RESPONSE', 'empty SOAP Body');
    return { env, parts };
  }

  // TD0.2 / TD0.3 ------------------------------------------------------------------------------------------

  async status(p: Patient): Promise<DmpPatientStatus> {
    const { env } = await this.call(ACTIONS.td02, p, buildTd02Request(p.ins, p.insOid, this.cfg.sourceId), { idempotent: true });
    return parseTd02Response(env.payload!, p.ins, p.insOid);
  }

  /** TD0.3: declares (after the patient's consent) or removes the caller's authorization. Idempotent. */
  async setAuthorization(p: Patient, remove = false): Promise<{ status: string; expiresAt?: string }> {
    const { env } = await this.call(ACTIONS.td03, p, buildTd03Request(remove), { idempotent: true });
    return parseTd03Response(env.payload!);
  }

  // TD3.1 ----------------------------------------------------------------------------------------------------

  async find(p: Patient, f: SearchFilters = {}, returnType: ReturnType = 'LeafClass'): Promise<QueryResult> {
    const eventCodes = [
      ...(f.eventCodes ?? []),
      ...(f.modalities?.length ? [f.modalities.map((m) => `${m}^^1.2.840.10008.2.16.4`)] : []).flat(),
      ...(f.regions?.length ? [f.regions.map((r) => `${r}^^2.16.840.1.113883.6.96`)] : []).flat(),
    ];
    const params: FindDocumentsParams = {
      patientId: patientIdOf(p.ins, p.insOid),
      statuses: f.statuses?.length ? f.statuses : ['approved'],
      typeCodes: f.typeCodes?.map(codeParam),
      classCodes: f.classCodes?.map(codeParam),
      practiceSettingCodes: f.practiceSettingCodes?.map(codeParam),
      healthcareFacilityTypeCodes: f.healthcareFacilityTypeCodes?.map(codeParam),
      formatCodes: f.formatCodes?.map(codeParam),
      confidentialityCodes: f.confidentialityCodes?.map(codeParam),
      eventCodes: eventCodes.length ? eventCodes : undefined,
      authorPersons: f.authorPersons,
      creationTimeFrom: f.creationFrom,
      creationTimeTo: f.creationTo,
      serviceStartTimeFrom: f.serviceStartFrom,
      serviceStartTimeTo: f.serviceStartTo,
      serviceStopTimeFrom: f.serviceStopFrom,
      serviceStopTimeTo: f.serviceStopTo,
    };
    const refs = [...(f.referenceIds ?? []), ...(f.accessionNumbers ?? []).map((a) => `${a}^^^^urn:ihe:iti:xds:2013:accession`)];
    const body = refs.length
      ? buildAdhocQuery({ kind: 'FindDocumentsByReferenceId', params: { ...params, referenceIds: refs }, returnType })
      : buildAdhocQuery({ kind: 'FindDocuments', params, returnType });
    const { env } = await this.call(ACTIONS.td31, p, body, { idempotent: true });
    return parseAdhocQueryResponse(env.payload!);
  }

  async getDocuments(p: Patient, ids: { uniqueIds?: string[]; entryUuids?: string[] }, returnType: ReturnType = 'LeafClass'): Promise<QueryResult> {
    const { env } = await this.call(ACTIONS.td31, p, buildAdhocQuery({ kind: 'GetDocuments', ...ids, returnType }), { idempotent: true });
    return parseAdhocQueryResponse(env.payload!);
  }

  /** The current entry (approved or archived) of a document, by uniqueId. */
  async currentEntry(p: Patient, uniqueId: string): Promise<DocumentEntry> {
    const r = await this.getDocuments(p, { uniqueIds: [uniqueId] });
    const current = r.entries.find((e) => e.status === STATUS.approved) ?? r.entries.find((e) => e.status === STATUS.archived);
    if (!current) throw dmpError('DMP_DOCUMENT_UNKNOWN', `uniqueId ${uniqueId}: ${r.entries.map((e) => e.status).join(', ') || 'not found'}`);
    return current;
  }

  // TD3.2 ----------------------------------------------------------------------------------------------------

  async retrieve(p: Patient, reqs: { uniqueId: string; repositoryUniqueId: string }[]): Promise<RetrieveResult> {
    const { env, parts } = await this.call(ACTIONS.td32, p, buildRetrieveRequest(reqs), { idempotent: true });
    return parseRetrieveResponse(env.payload!, parts);
  }

  /** TD3.1 GetDocuments then TD3.2: a document by uniqueId, checked against its metadata (hash, size). */
  async getDocument(p: Patient, uniqueId: string): Promise<{ entry: DocumentEntry; data: Buffer }> {
    const entry = await this.currentEntry(p, uniqueId);
    const r = await this.retrieve(p, [{ uniqueId, repositoryUniqueId: entry.repositoryUniqueId ?? '' }]);
    const d = r.documents.find((x) => x.uniqueId === uniqueId);
    if (!d) throw dmpError('DMP_DOCUMENT_UNKNOWN', r.missing.map((m) => `${m.uniqueId}: ${m.code}`).join('; ') || uniqueId);
    const sha1 = crypto.createHash('sha1').update(d.data).digest('hex');
    if (entry.hash && entry.hash.toLowerCase() !== sha1) throw dmpError('DMP_BAD_RESPONSE', `hash of ${uniqueId} differs from its metadata`);
    return { entry, data: d.data };
  }

  // TD2.1 ----------------------------------------------------------------------------------------------------

  /**
   * Publishes a CDA document (TD2.1), optionally replacing an earlier one (TD3.1 finds its entryUUID, RPLC).
   * Never submits twice: a timeout after sending is resolved by looking the uniqueId up before any resubmission.
   */
  async publish(cda: Buffer, opts: PublishOptions = {}): Promise<PublishResult> {
    const { entry, info } = entryFromDocuments(cda, { masking: opts.masking, referenceIds: opts.referenceIds, sourceId: this.cfg.sourceId });
    const p: Patient = { ins: info.ins, insOid: info.insOid };
    if (opts.replaceUniqueId) {
      if (opts.replaceUniqueId === entry.uniqueId) {
        throw new AppError('DMP_REPLACE_SAME_ID', 'La nouvelle version doit avoir un identifiant différent du document remplacé.', entry.uniqueId);
      }
      if (info.replacesId && info.replacesId !== opts.replaceUniqueId) {
        throw new AppError(
          'DMP_REPLACE_MISMATCH',
          'Le document remplacé indiqué ne correspond pas à celui que cite le CDA (relatedDocument RPLC).',
          `CDA replaces ${info.replacesId}, --replace ${opts.replaceUniqueId}`,
        );
      }
    }
    const journal = this.cfg.journal;
    const prior = journal?.get(entry.uniqueId);
    if (prior && prior.state !== 'failed') {
      const found = await this.lookup(p, entry.uniqueId);
      if (found) {
        journal?.put({ ...prior, state: 'done' });
        return { uniqueId: entry.uniqueId, ins: p.ins, setUniqueId: prior.setUniqueId, outcome: 'already-published' };
      }
    }
    let replaces: string | undefined;
    if (opts.replaceUniqueId) {
      const old = await this.currentEntry(p, opts.replaceUniqueId);
      if (old.status !== STATUS.approved) throw dmpError('DMP_REPLACED_NOT_CURRENT', `${opts.replaceUniqueId} is ${old.status}`);
      replaces = old.entryUuid;
    }
    const submit = async (): Promise<string> => {
      const built = await buildProvideAndRegister([{ entry, data: cda, replaces }], { signing: this.cfg.signing, sourceId: this.cfg.sourceId });
      journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'pending', setUniqueId: built.setUniqueId });
      const { env } = await this.call(ACTIONS.td21, p, built.bodyXml, { idempotent: false, attachments: built.attachments });
      checkRegistryResponse(env.payload!);
      journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'done', setUniqueId: built.setUniqueId });
      return built.setUniqueId;
    };
    try {
      const setUniqueId = await submit();
      return { uniqueId: entry.uniqueId, ins: p.ins, setUniqueId, ...(replaces ? { replacedEntryUuid: replaces } : {}), outcome: 'published' };
    } catch (err) {
      const sent = (err as { sent?: boolean }).sent;
      if (!(err instanceof DmpError) || !['DMP_TIMEOUT', 'DMP_NETWORK'].includes(err.code)) {
        journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'failed', detail: (err as Error).message });
        throw err;
      }
      if (!sent) {
        journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'failed', detail: err.message });
        throw err;
      }
      // Ambiguous: the request may have been processed. Look before resubmitting.
      journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'ambiguous', detail: err.message });
      let found: DocumentEntry | undefined;
      try {
        found = await this.lookup(p, entry.uniqueId);
      } catch (e2) {
        throw dmpError('DMP_AMBIGUOUS', `${err.message}; lookup failed: ${(e2 as Error).message}`);
      }
      if (found) {
        if (found.hash && found.hash !== entry.hash) throw dmpError('DMP_AMBIGUOUS', `a different document with uniqueId ${entry.uniqueId} is in the DMP`);
        journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'done' });
        return { uniqueId: entry.uniqueId, ins: p.ins, ...(replaces ? { replacedEntryUuid: replaces } : {}), outcome: 'confirmed-after-timeout' };
      }
      try {
        const setUniqueId = await submit();
        return { uniqueId: entry.uniqueId, ins: p.ins, setUniqueId, ...(replaces ? { replacedEntryUuid: replaces } : {}), outcome: 'resubmitted-after-timeout' };
      } catch (e3) {
        if (e3 instanceof DmpError && e3.code === 'DMP_DUPLICATE_UNIQUEID') {
          // The first request landed meanwhile.
          journal?.put({ uniqueId: entry.uniqueId, ins: p.ins, state: 'done' });
          return { uniqueId: entry.uniqueId, ins: p.ins, outcome: 'confirmed-after-timeout' };
        }
        if (e3 instanceof DmpError && ['DMP_TIMEOUT', 'DMP_NETWORK'].includes(e3.code)) throw dmpError('DMP_AMBIGUOUS', e3.message);
        throw e3;
      }
    }
  }

  /** The entry of a uniqueId whatever its status (except deleted), or undefined. */
  private async lookup(p: Patient, uniqueId: string): Promise<DocumentEntry | undefined> {
    const r = await this.getDocuments(p, { uniqueIds: [uniqueId] });
    return r.entries[0];
  }

  // TD3.3 ----------------------------------------------------------------------------------------------------

  private get updateAuthor(): XdsAuthor {
    return {
      person: `${this.cfg.vihf.nameId}^${this.cfg.vihf.subjectName}^^^^^^^&${OID.idnps}&ISO^D^^^IDNPS`,
      institutions: [`${this.cfg.vihf.subjectName}^^^^^&${OID.idnst}&ISO^IDNST^^^${this.cfg.vihf.structureId}`],
      roles: [],
      specialties: [],
    };
  }

  /** Archive, unarchive or delete (ITI-57 UpdateAvailabilityStatus). Not retried: resolved by reading back. */
  async setStatus(p: Patient, uniqueId: string, to: StatusTarget): Promise<DocumentEntry> {
    const current = await this.currentEntry(p, uniqueId);
    if (current.status === STATUS[to]) return current;
    await this.update(p, buildStatusUpdate(current, to, { sourceId: this.cfg.sourceId, author: this.updateAuthor }), async () => {
      const r = await this.getDocuments(p, { uniqueIds: [uniqueId] });
      return to === 'deleted' ? !r.entries.some((e) => e.entryUuid === current.entryUuid) : r.entries.some((e) => e.entryUuid === current.entryUuid && e.status === STATUS[to]);
    });
    return { ...current, status: STATUS[to] };
  }

  /** Mask/unmask to PS, visibility to the patient and legal representatives: a new version of the entry. */
  async setVisibility(p: Patient, uniqueId: string, change: { maskPs?: boolean; invisiblePatient?: boolean; invisibleLegalReps?: boolean }): Promise<DocumentEntry> {
    const current = await this.currentEntry(p, uniqueId);
    const mask = new Set(maskingOf(current));
    const apply = (code: MaskingCode, on: boolean | undefined): void => {
      if (on === true) mask.add(code);
      if (on === false) mask.delete(code);
    };
    apply('MASQUE_PS', change.maskPs);
    apply('INVISIBLE_PATIENT', change.invisiblePatient);
    apply('INVISIBLE_REPRESENTANTS_LEGAUX', change.invisibleLegalReps);
    const labels: Record<string, string> = {
      MASQUE_PS: 'Masqué aux professionnels de santé',
      INVISIBLE_PATIENT: 'Non visible par le patient',
      INVISIBLE_REPRESENTANTS_LEGAUX: 'Non visible par les représentants légaux du patient',
    };
    const codes = [
      ...current.confidentialityCodes.filter((c) => !(c.code in labels)),
      ...[...mask].map((m) => ({ code: m, scheme: OID.masking, display: labels[m]! })),
    ];
    if (codes.length === current.confidentialityCodes.length && codes.every((c) => current.confidentialityCodes.some((x) => x.code === c.code))) return current;
    await this.update(p, buildMetadataUpdate(current, codes, { sourceId: this.cfg.sourceId, author: this.updateAuthor }), async () => {
      const now = await this.currentEntry(p, uniqueId);
      return now.entryUuid !== current.entryUuid;
    });
    return this.currentEntry(p, uniqueId);
  }

  private async update(p: Patient, body: string, applied: () => Promise<boolean>): Promise<void> {
    try {
      const { env } = await this.call(ACTIONS.td33, p, body, { idempotent: false });
      checkRegistryResponse(env.payload!);
    } catch (err) {
      if (err instanceof DmpError && ['DMP_TIMEOUT', 'DMP_NETWORK'].includes(err.code) && (err as { sent?: boolean }).sent) {
        let ok = false;
        try {
          ok = await applied();
        } catch (e2) {
          throw dmpError('DMP_AMBIGUOUS', `${err.message}; lookup failed: ${(e2 as Error).message}`);
        }
        if (ok) return;
      }
      throw err;
    }
  }
}

/** `CODE` or `CODE^^SCHEME` → stored-query code value. */
function codeParam(v: string): string {
  return v.includes('^') ? v : `${v}^^`;
}

export { child, NS };
