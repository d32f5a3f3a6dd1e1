import https from 'node:https';
import type { DirectoryEntry } from '../../shared/api/mssante';
import { AppError } from '../core/errors';
import { valueSet } from '../terminology';
import { foldKey } from './directory';
import {
  API_KEY_HEADER,
  EMAIL_TYPE_MSSANTE,
  FHIR_JSON,
  IDNPS_SYSTEM,
  MAILBOX_METADATA,
  MAILBOX_METADATA_URL,
  ONLINE_LIMITS,
  PROFESSION_SYSTEM,
  RPPS_SYSTEM,
  SEARCH,
} from './directory-fhir-profile';

/**
 * The ANS "Annuaire Santé" FHIR API as an optional online source of MSSanté addresses: a small read-only
 * FHIR R4 client (HTTPS only, server certificate verified against the given trust anchors, API key header,
 * bounded time-outs and answer sizes, Bundle `next` links followed up to a cap, never to another origin) and
 * the mapping of Practitioner / PractitionerRole / Organization resources to `DirectoryEntry`.
 * Errors are `AppError`s with a French message that says the local search still works.
 */

export interface FhirDirectoryConfig {
  /** Service base, e.g. https://gateway.api.esante.gouv.fr/fhir/v2 (no trailing slash needed). */
  baseUrl: string;
  /** Secret: sent in the API key header only, never logged nor put in an error. */
  apiKey: string;
  /** Trust anchors (PEM). */
  ca: (string | Buffer)[];
  crl?: string[];
}

export interface OnlineQuery {
  text?: string;
  family?: string;
  given?: string;
  profession?: string;
  city?: string;
  nationalId?: string;
  limit?: number;
}

export interface OnlineResult {
  entries: DirectoryEntry[];
  /** More matches exist on the server than were read (page cap or limit reached). */
  more: boolean;
  requests: number;
  tookMs: number;
}

/* ---------- minimal FHIR JSON shapes (only what is read) ---------- */
interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
interface Extension {
  url?: string;
  extension?: Extension[];
  valueCodeableConcept?: CodeableConcept;
  valueCoding?: Coding;
  valueBoolean?: boolean;
  valueString?: string;
}
interface ContactPoint {
  system?: string;
  value?: string;
  extension?: Extension[];
}
interface Identifier {
  use?: string;
  system?: string;
  value?: string;
  type?: CodeableConcept;
}
interface Reference {
  reference?: string;
}
export interface FhirResource {
  resourceType: string;
  id?: string;
  active?: boolean;
  identifier?: Identifier[];
  name?: { family?: string; given?: string[]; use?: string }[] | string;
  telecom?: ContactPoint[];
  qualification?: { code?: CodeableConcept }[];
  practitioner?: Reference;
  organization?: Reference;
  address?: { city?: string; postalCode?: string }[];
  [k: string]: unknown;
}
export interface Bundle {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: { relation?: string; url?: string }[];
  entry?: { fullUrl?: string; resource?: FhirResource; search?: { mode?: string } }[];
}

/* ---------- terminology: profession codes (TRE_G15) and savoir-faire labels ---------- */
let professions: { code: string; label: string; key: string }[] | undefined;
const specialtyLabels = new Map<string, string>();
function professionTable(): { code: string; label: string; key: string }[] {
  if (professions) return professions;
  professions = [];
  for (const c of valueSet('J01_AUTHOR_SPECIALTY').concepts) {
    const m = /^G15_(\d+)(?:\/(.+))?$/.exec(c.code);
    if (!m) continue;
    if (m[2]) specialtyLabels.set(m[2], c.displayName.replace(/^[^-]+ - /, '').replace(/\s*\([A-Z]+\)$/, ''));
    else professions.push({ code: m[1]!, label: c.displayName, key: foldKey(c.displayName) ?? '' });
  }
  return professions;
}
/** Label of a TRE_G15 profession code ("10" → "Médecin"). */
export function professionLabel(code: string): string | undefined {
  return professionTable().find((p) => p.code === code)?.label;
}
/** Label of a savoir-faire code ("SM04" → "Cardiologie et maladies vasculaires"). */
export function specialtyLabel(code: string): string | undefined {
  professionTable();
  return specialtyLabels.get(code);
}
/** TRE_G15 codes whose label starts with the typed profession ("infirm" → 60, 69). */
export function professionCodes(typed: string): string[] {
  const k = foldKey(typed);
  if (!k) return [];
  return professionTable()
    .filter((p) => p.key.startsWith(k))
    .map((p) => p.code);
}

/* ---------- mapping ---------- */
function ext(list: Extension[] | undefined, url: string): Extension | undefined {
  return list?.find((e) => e.url === url);
}

/** The MSSanté mailboxes of a resource's telecom (red-listed ones left out). */
export function mssMailboxes(r: FhirResource): { address: string; kind: string | null; service: string | null }[] {
  const out: { address: string; kind: string | null; service: string | null }[] = [];
  for (const t of r.telecom ?? []) {
    if (t.system !== 'email' || !t.value) continue;
    const address = t.value.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(address)) continue;
    const meta = ext(t.extension, MAILBOX_METADATA_URL);
    const emailType = (t.extension ?? []).some((e) => e.valueCoding?.code === EMAIL_TYPE_MSSANTE);
    const mssDomain = /(^|\.)mssante\.fr$/.test(address.split('@')[1] ?? '');
    if (!meta && !emailType && !mssDomain) continue; // an ordinary e-mail address, not an MSSanté mailbox
    if (ext(meta?.extension, MAILBOX_METADATA.redList)?.valueBoolean === true) continue;
    const type = ext(meta?.extension, MAILBOX_METADATA.type);
    const kind = type?.valueCodeableConcept?.coding?.find((c) => c.code)?.code ?? type?.valueCoding?.code ?? null;
    const service = ext(meta?.extension, MAILBOX_METADATA.service)?.valueString ?? null;
    out.push({ address, kind, service });
  }
  return out;
}

/** The national id as the local index holds it: idNatPs (type prefix + RPPS), else `8` + RPPS. */
export function nationalIdOf(p: FhirResource): string | null {
  const ids = p.identifier ?? [];
  const idnps = ids.find((i) => i.system === IDNPS_SYSTEM || i.type?.coding?.some((c) => c.code === 'IDNPS'))?.value;
  if (idnps) return idnps;
  const rpps = ids.find((i) => i.system === RPPS_SYSTEM || i.type?.coding?.some((c) => c.code === 'RPPS'))?.value;
  return rpps ? `8${rpps}` : null;
}

function humanName(p: FhirResource): { family: string | null; given: string | null } {
  const names = Array.isArray(p.name) ? p.name : [];
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use === 'usual') ?? names[0];
  return { family: n?.family?.trim() || null, given: n?.given?.filter(Boolean).join(' ').trim() || null };
}

function qualification(p: FhirResource): { profession: string | null; specialty: string | null } {
  let profession: string | null = null;
  let specialty: string | null = null;
  for (const q of p.qualification ?? []) {
    for (const c of q.code?.coding ?? []) {
      if (!c.code) continue;
      if (!profession && (c.system === PROFESSION_SYSTEM || /TRE[-_]G15/.test(c.system ?? ''))) profession = professionLabel(c.code) ?? c.display ?? null;
      else if (!specialty && /TRE[-_]R38/.test(c.system ?? '')) specialty = specialtyLabel(c.code) ?? c.display ?? null;
    }
  }
  return { profession, specialty };
}

function refId(ref: Reference | undefined, type: string): string | undefined {
  const m = ref?.reference ? new RegExp(`(?:^|/)${type}/([^/]+)(?:/_history/[^/]+)?$`).exec(ref.reference) : null;
  return m?.[1];
}

function orgName(o: FhirResource | undefined): string | null {
  return typeof o?.name === 'string' ? o.name.trim() || null : null;
}

/**
 * Directory entries of a set of resources (the pages of a search and what was read alongside): one entry per
 * MSSanté mailbox of each Practitioner (and of its PractitionerRoles), with the organisation, city and
 * postal code of the role's Organization; with `organizationMailboxes`, the ORG/APP mailboxes of the
 * Organizations too. An address appears once (first occurrence wins). Inactive resources are left out.
 */
export function toDirectoryEntries(resources: FhirResource[], opts: { organizationMailboxes?: boolean } = {}): DirectoryEntry[] {
  const byKey = new Map<string, FhirResource>();
  for (const r of resources) if (r.id) byKey.set(`${r.resourceType}/${r.id}`, r);
  const roles = resources.filter((r) => r.resourceType === 'PractitionerRole' && r.active !== false);
  const out = new Map<string, DirectoryEntry>();
  const add = (e: DirectoryEntry) => {
    if (!out.has(e.address)) out.set(e.address, e);
  };
  for (const p of resources) {
    if (p.resourceType !== 'Practitioner' || p.active === false || !p.id) continue;
    const { family, given } = humanName(p);
    const { profession, specialty } = qualification(p);
    const nationalId = nationalIdOf(p);
    const myRoles = roles.filter((r) => refId(r.practitioner, 'Practitioner') === p.id);
    const orgOf = (role: FhirResource | undefined) => {
      const id = refId(role?.organization, 'Organization');
      return id ? byKey.get(`Organization/${id}`) : undefined;
    };
    const base = (org: FhirResource | undefined) => ({
      nationalId,
      family,
      given,
      profession,
      specialty,
      organization: orgName(org),
      city: org?.address?.[0]?.city ?? null,
      postalCode: org?.address?.[0]?.postalCode ?? null,
      source: 'annuaire-fhir' as const,
    });
    // A practitioner's own mailbox: the organisation of its first situation that has one.
    const firstOrg = myRoles.map(orgOf).find(Boolean);
    for (const m of mssMailboxes(p)) add({ address: m.address, kind: m.kind ?? 'PER', ...base(firstOrg) });
    for (const role of myRoles) for (const m of mssMailboxes(role)) add({ address: m.address, kind: m.kind ?? 'PER', ...base(orgOf(role)) });
  }
  if (opts.organizationMailboxes) {
    for (const o of resources) {
      if (o.resourceType !== 'Organization' || o.active === false) continue;
      for (const m of mssMailboxes(o)) {
        add({
          address: m.address,
          kind: m.kind ?? 'ORG',
          nationalId: null,
          family: null,
          given: null,
          profession: null,
          specialty: m.service,
          organization: orgName(o),
          city: o.address?.[0]?.city ?? null,
          postalCode: o.address?.[0]?.postalCode ?? null,
          source: 'annuaire-fhir',
        });
      }
    }
  }
  return [...out.values()];
}

/** Whether an entry satisfies the query the way the local index does (folded prefixes of words). */
export function entryMatches(e: DirectoryEntry, q: OnlineQuery): boolean {
  const words = (v: string | null | undefined) => (foldKey(v) ?? '').split(' ').filter(Boolean);
  const prefixOfWord = (field: string | null | undefined, typed: string | undefined) => {
    if (!typed) return true;
    const have = words(field);
    return words(typed).every((w) => have.some((h) => h.startsWith(w)));
  };
  if (q.nationalId && e.nationalId !== q.nationalId) return false;
  if (!prefixOfWord(e.family, q.family) || !prefixOfWord(e.given, q.given) || !prefixOfWord(e.profession, q.profession) || !prefixOfWord(e.city, q.city)) return false;
  if (q.text) {
    const all = [e.address.split('@')[0], e.family, e.given, e.profession, e.specialty, e.organization, e.city, e.postalCode, e.nationalId].flatMap(words);
    if (!words(q.text).every((w) => all.some((h) => h.startsWith(w)))) return false;
  }
  return true;
}

/* ---------- HTTP ---------- */
const STILL_LOCAL = 'La recherche dans l’annuaire local reste disponible.';

function httpError(status: number, headers: Record<string, string | string[] | undefined>, body: string, what: string): AppError {
  let diagnostics = '';
  try {
    const oo = JSON.parse(body) as { resourceType?: string; issue?: { diagnostics?: string; details?: { text?: string } }[] };
    if (oo.resourceType === 'OperationOutcome') diagnostics = (oo.issue ?? []).map((i) => i.diagnostics ?? i.details?.text ?? '').filter(Boolean).join('; ');
  } catch {
    /* not JSON */
  }
  const detail = `${what}: HTTP ${status}${diagnostics ? ` — ${diagnostics.slice(0, 300)}` : ''}`;
  if (status === 401 || status === 403) {
    return new AppError('DIRECTORY_FHIR_AUTH', `L’Annuaire Santé en ligne refuse la clé d’API (HTTP ${status}) : vérifiez-la dans Paramètres › Annuaire. ${STILL_LOCAL}`, detail);
  }
  if (status === 429) {
    const ra = Number(Array.isArray(headers['retry-after']) ? headers['retry-after'][0] : headers['retry-after']);
    const wait = Number.isFinite(ra) && ra > 0 ? ` Réessayez dans ${Math.ceil(ra)} s.` : ' Réessayez dans un moment.';
    return new AppError('DIRECTORY_FHIR_RATE_LIMITED', `L’Annuaire Santé en ligne limite le nombre de recherches (trop de requêtes).${wait} ${STILL_LOCAL}`, detail);
  }
  if (status === 400 || status === 422) {
    return new AppError('DIRECTORY_FHIR_BAD_REQUEST', `L’Annuaire Santé en ligne n’a pas accepté cette recherche. ${STILL_LOCAL}`, detail);
  }
  return new AppError('DIRECTORY_FHIR_UNAVAILABLE', `L’Annuaire Santé en ligne ne répond pas correctement (HTTP ${status}). ${STILL_LOCAL}`, detail);
}

function networkError(err: NodeJS.ErrnoException, what: string): AppError {
  const code = err.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code) || /certificate/i.test(err.message)) {
    return new AppError('DIRECTORY_FHIR_TLS', `Le certificat du serveur de l’Annuaire Santé n’a pas pu être vérifié : connexion refusée. Vérifiez le magasin de confiance dans Paramètres. ${STILL_LOCAL}`, `${what}: ${code} ${err.message}`);
  }
  if (code === 'ETIMEDOUT' || code === 'ABORT_ERR' || code === 'DIRECTORY_TIMEOUT') {
    return new AppError('DIRECTORY_FHIR_TIMEOUT', `L’Annuaire Santé en ligne n’a pas répondu à temps. ${STILL_LOCAL}`, `${what}: ${code || err.message}`);
  }
  return new AppError('DIRECTORY_FHIR_UNREACHABLE', `L’Annuaire Santé en ligne est injoignable (réseau indisponible ou serveur arrêté). ${STILL_LOCAL}`, `${what}: ${code} ${err.message}`);
}

export class FhirDirectoryClient {
  private readonly base: URL;
  requests = 0;

  constructor(
    private readonly cfg: FhirDirectoryConfig,
    private readonly limits: { requestTimeoutMs: number; searchTimeoutMs: number; maxPages: number; pageSize: number; maxResponseBytes: number } = ONLINE_LIMITS,
  ) {
    if (!cfg.apiKey) throw new AppError('DIRECTORY_FHIR_NO_KEY', `Aucune clé d’API de l’Annuaire Santé n’est configurée (Paramètres › Annuaire). ${STILL_LOCAL}`, 'no API key');
    let u: URL;
    try {
      u = new URL(cfg.baseUrl.replace(/\/+$/, ''));
    } catch {
      throw new AppError('DIRECTORY_FHIR_URL', `L’adresse de l’Annuaire Santé en ligne est invalide (Paramètres › Annuaire). ${STILL_LOCAL}`, cfg.baseUrl.slice(0, 200));
    }
    if (u.protocol !== 'https:') throw new AppError('DIRECTORY_FHIR_URL', `L’adresse de l’Annuaire Santé en ligne doit commencer par https:// (connexion chiffrée obligatoire). ${STILL_LOCAL}`, u.origin);
    if (!cfg.ca.length) throw new AppError('DIRECTORY_FHIR_TLS', `Aucun certificat d’autorité n’est configuré pour vérifier l’Annuaire Santé en ligne. ${STILL_LOCAL}`, 'empty trust store');
    this.base = u;
  }

  /** One GET of a FHIR URL on the configured origin; the answer must be a Bundle. */
  async get(url: URL, deadline: number): Promise<Bundle> {
    if (url.origin !== this.base.origin) {
      // A `next` link elsewhere would carry the API key to another host.
      throw new AppError('DIRECTORY_FHIR_INVALID_RESPONSE', `L’Annuaire Santé en ligne a renvoyé une réponse inattendue. ${STILL_LOCAL}`, `link to another origin: ${url.origin}`);
    }
    const what = `GET ${url.pathname}`;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw networkError(Object.assign(new Error('search time budget exhausted'), { code: 'DIRECTORY_TIMEOUT' }), what);
    const timeout = Math.min(this.limits.requestTimeoutMs, remaining);
    this.requests++;
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'GET',
          headers: { Accept: FHIR_JSON, [API_KEY_HEADER]: this.cfg.apiKey, 'User-Agent': 'LPS-Compagnon' },
          ca: this.cfg.ca,
          ...(this.cfg.crl?.length ? { crl: this.cfg.crl } : {}),
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.limits.maxResponseBytes) {
              req.destroy(Object.assign(new Error(`answer larger than ${this.limits.maxResponseBytes} bytes`), { code: 'DIRECTORY_TOO_LARGE' }));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end();
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'DIRECTORY_TOO_LARGE') throw new AppError('DIRECTORY_FHIR_INVALID_RESPONSE', `L’Annuaire Santé en ligne a renvoyé une réponse trop volumineuse. ${STILL_LOCAL}`, `${what}: ${err.message}`);
      throw networkError(err, what);
    });
    if (status !== 200) throw httpError(status, headers, body, what);
    let bundle: Bundle;
    try {
      bundle = JSON.parse(body) as Bundle;
    } catch {
      throw new AppError('DIRECTORY_FHIR_INVALID_RESPONSE', `L’Annuaire Santé en ligne a renvoyé une réponse illisible. ${STILL_LOCAL}`, `${what}: not JSON`);
    }
    if (bundle?.resourceType !== 'Bundle' || (bundle.entry !== undefined && !Array.isArray(bundle.entry))) {
      throw new AppError('DIRECTORY_FHIR_INVALID_RESPONSE', `L’Annuaire Santé en ligne a renvoyé une réponse inattendue. ${STILL_LOCAL}`, `${what}: resourceType ${String((bundle as { resourceType?: unknown })?.resourceType)}`);
    }
    return bundle;
  }

  private url(type: string, params: [string, string][]): URL {
    const u = new URL(`${this.base.href.replace(/\/+$/, '')}/${type}`);
    for (const [k, v] of params) u.searchParams.append(k, v);
    return u;
  }

  /** A search followed through its `next` links while `want` matches are missing (capped). */
  async searchAll(type: string, params: [string, string][], want: number, deadline: number): Promise<{ resources: FhirResource[]; matches: number; more: boolean }> {
    const resources: FhirResource[] = [];
    let matches = 0;
    let next: URL | undefined = this.url(type, [...params, ['_count', String(Math.min(this.limits.pageSize, Math.max(want, 1)))]]);
    let pages = 0;
    while (next && pages < this.limits.maxPages) {
      const b = await this.get(next, deadline);
      pages++;
      for (const e of b.entry ?? []) {
        if (!e.resource?.resourceType) continue;
        resources.push(e.resource);
        if ((e.search?.mode ?? 'match') === 'match' && e.resource.resourceType === type) matches++;
      }
      const link = b.link?.find((l) => l.relation === 'next')?.url;
      next = undefined;
      if (link && matches < want) {
        try {
          next = new URL(link, this.base);
        } catch {
          throw new AppError('DIRECTORY_FHIR_INVALID_RESPONSE', `L’Annuaire Santé en ligne a renvoyé une réponse inattendue. ${STILL_LOCAL}`, 'invalid next link');
        }
      } else if (link) {
        return { resources, matches, more: true };
      }
    }
    return { resources, matches, more: !!next };
  }

  /** Resources by id (`_id=a,b,…`), in chunks. */
  private async byIds(type: string, ids: string[], extra: [string, string][], deadline: number): Promise<FhirResource[]> {
    const out: FhirResource[] = [];
    const unique = [...new Set(ids)].slice(0, 200);
    for (let i = 0; i < unique.length; i += 50) {
      const chunk = unique.slice(i, i + 50);
      out.push(...(await this.searchAll(type, [['_id', chunk.join(',')], ...extra], chunk.length, deadline)).resources);
    }
    return out;
  }

  /**
   * Multi-criteria search. With a name, a first name, a national id or free text: Practitioners (with their
   * PractitionerRoles), then the roles' Organizations (organisation name, city); the city then filters.
   * With a city and no person criterion: the city's Organizations with their roles, then those Practitioners,
   * and the Organizations' own ORG/APP mailboxes. Every criterion is applied again to the mapped entries.
   */
  async search(q: OnlineQuery): Promise<OnlineResult> {
    const t0 = Date.now();
    const deadline = t0 + this.limits.searchTimeoutMs;
    const limit = q.limit ?? 50;
    const textWords = (q.text ?? '').split(/[^\p{L}\p{N}'-]+/u).filter((w) => w.length > 0);
    const person = !!(q.family || q.given || q.nationalId || textWords.length);
    let entries: DirectoryEntry[] = [];
    let more = false;
    if (!person && !q.city && !q.profession) return { entries: [], more: false, requests: 0, tookMs: 0 };
    if (person || !q.city) {
      const common: [string, string][] = [['_revinclude', SEARCH.practitioner.revRoles]];
      if (q.given) common.push([SEARCH.practitioner.given, q.given]);
      if (q.nationalId) {
        const id = q.nationalId.trim();
        common.push([SEARCH.practitioner.identifier, /^8\d{11}$/.test(id) ? `${IDNPS_SYSTEM}|${id}` : /^\d{11}$/.test(id) ? `${RPPS_SYSTEM}|${id}` : id]);
      }
      if (q.profession) {
        const codes = professionCodes(q.profession);
        if (codes.length) common.push([SEARCH.practitioner.profession, codes.map((c) => `${PROFESSION_SYSTEM}|${c}`).join(',')]);
      }
      // Free text has no FHIR counterpart: each of its first words is tried as the family name.
      const families = q.family ? [q.family] : textWords.length ? textWords.slice(0, 3) : [undefined];
      for (const family of families) {
        const params: [string, string][] = [...(family ? [[SEARCH.practitioner.family, family] as [string, string]] : []), ...common];
        const r = await this.searchAll('Practitioner', params, limit, deadline);
        const orgIds = r.resources
          .filter((x) => x.resourceType === 'PractitionerRole')
          .map((x) => refId(x.organization, 'Organization'))
          .filter((x): x is string => !!x);
        const orgs = orgIds.length ? await this.byIds('Organization', orgIds, [], deadline) : [];
        entries = toDirectoryEntries([...r.resources, ...orgs]).filter((e) => entryMatches(e, q));
        more = r.more;
        if (entries.length) break;
      }
    } else {
      const r = await this.searchAll('Organization', [[SEARCH.organization.city, q.city], ['_revinclude', SEARCH.organization.revRoles]], limit, deadline);
      const practitionerIds = r.resources
        .filter((x) => x.resourceType === 'PractitionerRole')
        .map((x) => refId(x.practitioner, 'Practitioner'))
        .filter((x): x is string => !!x);
      const practitioners = practitionerIds.length ? await this.byIds('Practitioner', practitionerIds, [], deadline) : [];
      entries = toDirectoryEntries([...r.resources, ...practitioners], { organizationMailboxes: !q.profession }).filter((e) => entryMatches(e, q));
      more = r.more;
    }
    if (entries.length > limit) {
      entries = entries.slice(0, limit);
      more = true;
    }
    return { entries, more, requests: this.requests, tookMs: Date.now() - t0 };
  }
}
