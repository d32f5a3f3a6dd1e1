import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DmpDocument, DmpStatusResult } from '../../shared/api/dmp';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { DmpClient, type Patient } from './client';
import { resolveDmpConfig } from './config';
import { maskingOf, type DocumentEntry } from './ebrim';
import { SIGNATURE_ENTRY, STATUS, statusName, type MaskingCode } from './protocol';
import type { DmpPatientStatus } from './td0';
import { valueSet } from '../terminology';
import { documentView, groupVersions, newVersionCda, replacementsOf } from './views';

/** What the user should do after a TD0.2, in French. */
export function adviceFor(s: Pick<DmpPatientStatus, 'dmp' | 'authorization'>): string {
  if (s.dmp === 'INEXISTANT') return "Ce patient n'a pas de DMP : aucun document ne peut y être déposé.";
  if (s.dmp === 'FERME') return 'Le DMP de ce patient est fermé : aucun dépôt ni consultation possible.';
  switch (s.authorization) {
    case 'VALIDE':
      return 'DMP actif, vous êtes autorisé : vous pouvez déposer et consulter des documents.';
    case 'NON_EXISTE':
      return "DMP actif mais vous n'avez pas d'autorisation : après avoir recueilli le consentement du patient, enregistrez l'autorisation d'accès.";
    case 'EXPIRE':
      return "Votre autorisation d'accès a expiré : recueillez à nouveau le consentement du patient puis renouvelez l'autorisation.";
    case 'INTERDIT':
      return "Le patient a bloqué votre accès à son DMP : aucune action n'est possible.";
  }
}

export function toDmpDocument(e: DocumentEntry): DmpDocument {
  return {
    uniqueId: e.uniqueId,
    entryUuid: e.entryUuid,
    ...(e.title ? { title: e.title } : {}),
    status: (e.status && statusName(e.status)) ?? e.status ?? 'approved',
    mimeType: e.mimeType,
    ...(e.typeCode ? { typeCode: e.typeCode } : {}),
    ...(e.classCode ? { classCode: e.classCode } : {}),
    ...(e.formatCode ? { formatCode: e.formatCode } : {}),
    ...(e.creationTime ? { creationTime: e.creationTime } : {}),
    ...(e.serviceStartTime ? { serviceStartTime: e.serviceStartTime } : {}),
    ...(e.serviceStopTime ? { serviceStopTime: e.serviceStopTime } : {}),
    authors: e.authors.map((a) => a.person ?? a.institutions[0] ?? '').filter(Boolean),
    masking: maskingOf(e),
    confidentiality: e.confidentialityCodes.map((c) => c.code),
    eventCodes: e.eventCodes,
    referenceIds: e.referenceIds,
    ...(e.repositoryUniqueId ? { repositoryUniqueId: e.repositoryUniqueId } : {}),
    ...(e.size !== undefined ? { size: e.size } : {}),
    ...(e.hash ? { hash: e.hash } : {}),
    ...(e.version ? { version: e.version } : {}),
    isSignature: e.formatCode?.code === SIGNATURE_ENTRY.formatCode.code,
  };
}

const MAX_CDA_BYTES = 50 * 1024 * 1024;

/** Name of the structure (organization certificate) the user works for, from the active profile. */
export function registerDmpHandlers(core: Core): void {
  const session = (): { client: DmpClient; insOid: string; actor: string } => {
    const cfg = resolveDmpConfig(core);
    return { client: new DmpClient(cfg.client), insOid: cfg.insOid, actor: cfg.actor };
  };
  /** Runs a DMP action and records it in the audit trail (success or failure). */
  const audited = async <T>(action: string, subject: string | ((r: T) => string), actor: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    try {
      const r = await fn();
      core.audit.append({ actor, action, subject: typeof subject === 'function' ? subject(r) : subject, outcome: 'success', details });
      return r;
    } catch (err) {
      const e = err as AppError;
      core.audit.append({ actor, action, subject: typeof subject === 'function' ? null : subject, outcome: 'failure', details: { ...details, code: e.code ?? 'INTERNAL', error: e.detail ?? e.message } });
      throw err;
    }
  };
  const statusOf = (s: DmpPatientStatus): DmpStatusResult => {
    const { ack: _ack, ...rest } = s;
    return { ...rest, advice: adviceFor(s) };
  };

  core.registry.register('dmp.status', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited('dmp.status', p.ins, actor, {}, async () => statusOf(await client.status(p)));
  });

  core.registry.register('dmp.authorize', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited(input.remove ? 'dmp.authorization.remove' : 'dmp.authorization.add', p.ins, actor, {}, async () => {
      const r = await client.setAuthorization(p, input.remove);
      return { ...r, after: statusOf(await client.status(p)) };
    });
  });

  core.registry.register('dmp.publish', async (input) => {
    const { client, actor } = session();
    let cda: Buffer;
    if (input.path) {
      const st = fs.statSync(input.path, { throwIfNoEntry: false });
      if (!st?.isFile()) throw new AppError('FILE_NOT_FOUND', `Fichier introuvable : ${input.path}`, input.path);
      if (st.size > MAX_CDA_BYTES) throw new AppError('FILE_TOO_LARGE', 'Le document est trop volumineux pour le DMP.', `${st.size} bytes`);
      cda = fs.readFileSync(input.path);
    } else cda = Buffer.from(input.cdaBase64!, 'base64');
    const masking: MaskingCode[] = [
      ...(input.masking.maskPs ? (['MASQUE_PS'] as const) : []),
      ...(input.masking.invisiblePatient ? (['INVISIBLE_PATIENT'] as const) : []),
      ...(input.masking.invisibleLegalReps ? (['INVISIBLE_REPRESENTANTS_LEGAUX'] as const) : []),
    ];
    return audited('dmp.publish', (r) => r.ins, actor, { masking, replace: input.replaceUniqueId ?? null, file: input.path ? path.basename(input.path) : null }, () =>
      client.publish(cda, { masking, ...(input.replaceUniqueId ? { replaceUniqueId: input.replaceUniqueId } : {}) }),
    );
  });

  core.registry.register('dmp.search', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited('dmp.search', p.ins, actor, { filters: { ...input, ins: undefined } }, async () => {
      const r = await client.find(p, {
        statuses: input.statuses,
        typeCodes: input.typeCodes,
        classCodes: input.classCodes,
        modalities: input.modalities,
        regions: input.regions,
        accessionNumbers: input.accessionNumbers,
        creationFrom: input.creationFrom,
        creationTo: input.creationTo,
        serviceStartFrom: input.serviceStartFrom,
        serviceStartTo: input.serviceStartTo,
      });
      const documents = r.entries.map(toDmpDocument).filter((d) => input.includeSignatures || !d.isSignature);
      return { documents };
    });
  });

  core.registry.register('dmp.get', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited('dmp.get', p.ins, actor, { uniqueId: input.uniqueId }, async () => {
      const { entry, data } = await client.getDocument(p, input.uniqueId);
      if (input.output) {
        const tmp = `${input.output}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, data, { mode: 0o600 });
        fs.renameSync(tmp, input.output);
        return { document: toDmpDocument(entry), path: input.output, size: data.length };
      }
      return { document: toDmpDocument(entry), contentBase64: data.toString('base64'), size: data.length };
    });
  });

  core.registry.register('dmp.set', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited(`dmp.set.${input.action}`, p.ins, actor, { uniqueId: input.uniqueId }, async () => {
      let e: DocumentEntry;
      switch (input.action) {
        case 'archive':
          e = await client.setStatus(p, input.uniqueId, 'archived');
          break;
        case 'unarchive':
          e = await client.setStatus(p, input.uniqueId, 'approved');
          break;
        case 'delete':
          e = await client.setStatus(p, input.uniqueId, 'deleted');
          break;
        case 'mask-ps':
          e = await client.setVisibility(p, input.uniqueId, { maskPs: true });
          break;
        case 'unmask-ps':
          e = await client.setVisibility(p, input.uniqueId, { maskPs: false });
          break;
        case 'invisible-patient':
          e = await client.setVisibility(p, input.uniqueId, { invisiblePatient: true });
          break;
        case 'visible-patient':
          e = await client.setVisibility(p, input.uniqueId, { invisiblePatient: false });
          break;
        case 'invisible-legal-reps':
          e = await client.setVisibility(p, input.uniqueId, { invisibleLegalReps: true });
          break;
        case 'visible-legal-reps':
          e = await client.setVisibility(p, input.uniqueId, { invisibleLegalReps: false });
          break;
      }
      return { document: toDmpDocument(e) };
    });
  });

  // --- Read models of the DMP record screen (additive) ------------------------------------------------------

  core.registry.register('dmp.typeCodes', async () => {
    const seen = new Set<string>();
    const types = valueSet('J07_TYPE')
      .concepts.filter((c) => !seen.has(`${c.codeSystem}|${c.code}`) && seen.add(`${c.codeSystem}|${c.code}`))
      .map((c) => ({ code: c.code, scheme: c.codeSystem, label: c.displayName || c.code }))
      .sort((a, b) => a.label.localeCompare(b.label, 'fr'));
    return { types };
  });

  core.registry.register('dmp.list', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    const wanted = input.statuses?.length ? input.statuses : (['approved'] as const);
    return audited('dmp.search', p.ins, actor, { filters: { ...input, ins: undefined }, grouped: true }, async () => {
      // Old versions are always fetched (deprecated) so that they can be shown under their current document.
      const r = await client.find(p, {
        statuses: [...new Set([...wanted, 'deprecated' as const])],
        typeCodes: input.typeCodes,
        classCodes: input.classCodes,
        modalities: input.modalities,
        regions: input.regions,
        accessionNumbers: input.accessionNumbers,
        creationFrom: input.creationFrom,
        creationTo: input.creationTo,
        serviceStartFrom: input.serviceStartFrom,
        serviceStartTo: input.serviceStartTo,
      });
      const docs = r.entries.map(toDmpDocument).filter((d) => !d.isSignature);
      const groups = groupVersions(docs, await replacementsOf(client, p, docs));
      return { groups: groups.filter((g) => (wanted as readonly string[]).includes(String(g.current.status))) };
    });
  });

  core.registry.register('dmp.view', async (input) => {
    const { client, insOid, actor } = session();
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? insOid };
    return audited('dmp.view', p.ins, actor, { uniqueId: input.uniqueId }, async () => {
      // The current entry, or (an old, replaced document) its newest deprecated one: both can be read.
      const r = await client.getDocuments(p, { uniqueIds: [input.uniqueId] });
      const rank = (e: DocumentEntry): number => (e.status === STATUS.approved ? 3 : e.status === STATUS.archived ? 2 : e.status === STATUS.deprecated ? 1 : 0);
      const entry = [...r.entries].sort((a, b) => rank(b) - rank(a) || Number(b.version ?? 0) - Number(a.version ?? 0))[0];
      if (!entry || rank(entry) === 0) throw new AppError('DMP_DOCUMENT_UNKNOWN', "Ce document n'est plus dans le DMP (supprimé) ou ne vous est pas accessible.", `uniqueId ${input.uniqueId}`);
      const got = await client.retrieve(p, [{ uniqueId: input.uniqueId, repositoryUniqueId: entry.repositoryUniqueId ?? '' }]);
      const doc = got.documents.find((d) => d.uniqueId === input.uniqueId);
      if (!doc) throw new AppError('DMP_DOCUMENT_UNKNOWN', "Le DMP n'a pas renvoyé ce document.", got.missing.map((m) => `${m.uniqueId}: ${m.code} ${m.message}`).join('; ') || input.uniqueId);
      const sha1 = crypto.createHash('sha1').update(doc.data).digest('hex');
      if (entry.hash && entry.hash.toLowerCase() !== sha1) throw new AppError('DMP_BAD_RESPONSE', 'Le document reçu du DMP ne correspond pas à son empreinte : il n’est pas affiché.', `hash of ${input.uniqueId} differs from its metadata`);
      return documentView(toDmpDocument(entry), doc.data);
    });
  });

  core.registry.register('dmp.newVersion', async (input) => {
    const cfg = resolveDmpConfig(core);
    const client = new DmpClient(cfg.client);
    const p: Patient = { ins: input.ins, insOid: input.insOid ?? cfg.insOid };
    const v = cfg.client.vihf;
    return audited('dmp.publish', p.ins, cfg.actor, { replace: input.uniqueId, newVersion: true }, async () => {
      const { entry, data } = await client.getDocument(p, input.uniqueId);
      const built = newVersionCda(data, Buffer.from(input.pdfBase64, 'base64'), {
        nameId: v.nameId,
        name: v.subjectName,
        professionCode: v.roles[0]?.code ?? '10',
        ...(v.roles[1]?.code ? { specialtyCode: v.roles[1].code } : {}),
        structureId: v.structureId,
        structureName: cfg.structureName,
      }, input.title ? { title: input.title } : {});
      const current = maskingOf(entry);
      const m = input.masking ?? { maskPs: current.includes('MASQUE_PS'), invisiblePatient: current.includes('INVISIBLE_PATIENT'), invisibleLegalReps: current.includes('INVISIBLE_REPRESENTANTS_LEGAUX') };
      const masking: MaskingCode[] = [
        ...(m.maskPs ? (['MASQUE_PS'] as const) : []),
        ...(m.invisiblePatient ? (['INVISIBLE_PATIENT'] as const) : []),
        ...(m.invisibleLegalReps ? (['INVISIBLE_REPRESENTANTS_LEGAUX'] as const) : []),
      ];
      if (built.ins !== p.ins) throw new AppError('DMP_REQUEST_INVALID', 'Ce document ne concerne pas le patient en cours : pas de nouvelle version.', `${built.ins} ≠ ${p.ins}`);
      const r = await client.publish(built.bytes, { masking, replaceUniqueId: input.uniqueId });
      return { uniqueId: r.uniqueId, ins: r.ins, replacedUniqueId: input.uniqueId, versionNumber: built.versionNumber, outcome: r.outcome };
    });
  });
}
