import crypto from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type { FhirResource } from './directory-fhir';
import { foldKey } from './directory';
import {
  API_KEY_HEADER,
  BAL_TYPE_SYSTEM,
  EMAIL_TYPE_MSSANTE,
  EMAIL_TYPE_SYSTEM,
  EMAIL_TYPE_URL,
  FHIR_JSON,
  IDNPS_SYSTEM,
  MAILBOX_METADATA_URL,
  PROFESSION_SYSTEM,
  RPPS_SYSTEM,
  SPECIALTY_SYSTEM,
} from './directory-fhir-profile';

/**
 * A faithful small stand-in for the ANS "Annuaire Santé" FHIR API (R4, read-only searches) for the sandbox and
 * the tests: HTTPS, the API key header required (401 + OperationOutcome otherwise), the search parameters the
 * client uses with FHIR semantics (string: case- and accent-insensitive "starts with", `:exact`, `:contains`;
 * token: `code`, `system|code`, `|code`, comma = OR; `_id`; `_count` 1–100), `_include` / `_revinclude` as the
 * v2 CapabilityStatement lists them, Bundle `searchset` with `total`, `self` / `next` / `previous` links and
 * `search.mode` match/include, 400 + OperationOutcome on an unknown or malformed parameter, optional rate
 * limiting (429 + Retry-After). Not the real server: no `_lastUpdated`, no chaining, no POST search.
 */
export interface FhirDirectoryData {
  practitioners: FhirResource[];
  roles: FhirResource[];
  organizations: FhirResource[];
}

export interface FhirDirectoryServerOptions {
  apiKey: string;
  data: FhirDirectoryData;
  tls: { cert: string | Buffer; key: string | Buffer };
  /** Path of the service base (default `/fhir/v2`, like the ANS gateway). */
  basePath?: string;
  /** Answer 429 beyond `max` requests per `windowMs`. */
  rateLimit?: { max: number; windowMs: number };
  /** Default page size when `_count` is absent. */
  defaultCount?: number;
}

type Matcher = (r: FhirResource) => boolean;
class BadRequest extends Error {}

const fold = (v: string | undefined | null) => (v ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();

function stringMatch(values: (string | undefined)[], raw: string, modifier: string | undefined): boolean {
  const alts = raw.split(',').map(fold).filter(Boolean);
  if (!alts.length) throw new BadRequest('empty string parameter value');
  return values.some((v) => {
    const f = fold(v);
    return alts.some((a) => (modifier === 'exact' ? v === raw : modifier === 'contains' ? f.includes(a) : f.startsWith(a)));
  });
}

function tokenMatch(codings: { system?: string; code?: string; value?: string }[], raw: string): boolean {
  const alts = raw.split(',').filter(Boolean);
  if (!alts.length) throw new BadRequest('empty token parameter value');
  return alts.some((alt) => {
    const bar = alt.indexOf('|');
    const system = bar >= 0 ? alt.slice(0, bar) : undefined;
    const code = bar >= 0 ? alt.slice(bar + 1) : alt;
    if (!code) throw new BadRequest(`token without code: ${alt}`);
    return codings.some((c) => (c.code ?? c.value) === code && (system === undefined || (system === '' ? !c.system : c.system === system)));
  });
}

const refId = (ref: unknown, type: string) => {
  const r = (ref as { reference?: string } | undefined)?.reference;
  const m = r ? new RegExp(`(?:^|/)${type}/([^/]+)$`).exec(r) : null;
  return m?.[1];
};
const mailValues = (r: FhirResource) => (r.telecom ?? []).filter((t) => t.system === 'email').map((t) => t.value);
const names = (r: FhirResource) => (Array.isArray(r.name) ? r.name : []);

/** Search parameters per resource type: name → (value, modifier) → matcher. */
const PARAMS: Record<string, Record<string, { type: 'string' | 'token' | 'reference'; match: (r: FhirResource, v: string, mod?: string) => boolean }>> = {
  Practitioner: {
    family: { type: 'string', match: (r, v, m) => stringMatch(names(r).map((n) => n.family), v, m) },
    given: { type: 'string', match: (r, v, m) => stringMatch(names(r).flatMap((n) => n.given ?? []), v, m) },
    name: { type: 'string', match: (r, v, m) => stringMatch(names(r).flatMap((n) => [n.family, ...(n.given ?? []), ...(((n as { prefix?: string[] }).prefix ?? []) as string[])]), v, m) },
    identifier: { type: 'token', match: (r, v) => tokenMatch(r.identifier ?? [], v) },
    'qualification-code': { type: 'token', match: (r, v) => tokenMatch((r.qualification ?? []).flatMap((q) => q.code?.coding ?? []), v) },
    'mailbox-mss': { type: 'string', match: (r, v, m) => stringMatch(mailValues(r), v, m) },
    active: { type: 'token', match: (r, v) => String(r.active !== false) === v },
  },
  Organization: {
    name: { type: 'string', match: (r, v, m) => stringMatch([typeof r.name === 'string' ? r.name : undefined], v, m) },
    'address-city': { type: 'string', match: (r, v, m) => stringMatch((r.address ?? []).map((a) => a.city), v, m) },
    'address-postalcode': { type: 'string', match: (r, v, m) => stringMatch((r.address ?? []).map((a) => a.postalCode), v, m) },
    identifier: { type: 'token', match: (r, v) => tokenMatch(r.identifier ?? [], v) },
    'mailbox-mss': { type: 'string', match: (r, v, m) => stringMatch(mailValues(r), v, m) },
    active: { type: 'token', match: (r, v) => String(r.active !== false) === v },
  },
  PractitionerRole: {
    practitioner: { type: 'reference', match: (r, v) => v.split(',').some((x) => refId(r.practitioner, 'Practitioner') === x.replace(/^Practitioner\//, '')) },
    organization: { type: 'reference', match: (r, v) => v.split(',').some((x) => refId(r.organization, 'Organization') === x.replace(/^Organization\//, '')) },
    identifier: { type: 'token', match: (r, v) => tokenMatch(r.identifier ?? [], v) },
    'mailbox-mss': { type: 'string', match: (r, v, m) => stringMatch(mailValues(r), v, m) },
    active: { type: 'token', match: (r, v) => String(r.active !== false) === v },
  },
};
const INCLUDES: Record<string, { include: string[]; revinclude: string[] }> = {
  Practitioner: { include: [], revinclude: ['PractitionerRole:practitioner'] },
  Organization: { include: [], revinclude: ['PractitionerRole:organization'] },
  PractitionerRole: { include: ['PractitionerRole:organization', 'PractitionerRole:practitioner'], revinclude: [] },
};
const CONTROL = new Set(['_count', '_include', '_revinclude', '_id', '_getpagesoffset', '_format']);

function outcome(code: string, diagnostics: string, severity = 'error') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

export function createFhirDirectoryServer(opts: FhirDirectoryServerOptions): https.Server {
  const basePath = (opts.basePath ?? '/fhir/v2').replace(/\/+$/, '');
  const byType: Record<string, FhirResource[]> = { Practitioner: opts.data.practitioners, PractitionerRole: opts.data.roles, Organization: opts.data.organizations };
  const hits: number[] = [];
  const expectedKey = Buffer.from(opts.apiKey);

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': `${FHIR_JSON}; charset=utf-8`, 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const server = https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    try {
      const key = req.headers[API_KEY_HEADER.toLowerCase()];
      const given = Buffer.from(typeof key === 'string' ? key : '');
      if (given.length !== expectedKey.length || !crypto.timingSafeEqual(given, expectedKey)) {
        send(res, 401, outcome('security', key ? 'Invalid API key' : `Missing ${API_KEY_HEADER} header`));
        return;
      }
      if (opts.rateLimit) {
        const now = Date.now();
        while (hits.length && hits[0]! <= now - opts.rateLimit.windowMs) hits.shift();
        if (hits.length >= opts.rateLimit.max) {
          const retry = Math.max(1, Math.ceil((hits[0]! + opts.rateLimit.windowMs - now) / 1000));
          send(res, 429, outcome('throttled', 'Too many requests'), { 'Retry-After': String(retry) });
          return;
        }
        hits.push(now);
      }
      if (req.method !== 'GET') {
        send(res, 405, outcome('not-supported', `${req.method} is not supported here`));
        return;
      }
      const url = new URL(req.url ?? '/', `https://${req.headers.host ?? 'localhost'}`);
      if (!url.pathname.startsWith(`${basePath}/`)) {
        send(res, 404, outcome('not-found', `Unknown path ${url.pathname}`));
        return;
      }
      const rest = url.pathname.slice(basePath.length + 1);
      if (rest === 'metadata') {
        send(res, 200, capability());
        return;
      }
      const [type, id, ...more] = rest.split('/');
      const all = type ? byType[type] : undefined;
      if (!type || !all || more.length) {
        send(res, 404, outcome('not-supported', `Unknown resource type ${type ?? ''}`));
        return;
      }
      if (id) {
        const r = all.find((x) => x.id === id);
        if (r) send(res, 200, r);
        else send(res, 404, outcome('not-found', `${type}/${id} is not known`));
        return;
      }
      send(res, 200, search(type, all, url));
    } catch (err) {
      if (err instanceof BadRequest) send(res, 400, outcome('invalid', err.message));
      else send(res, 500, outcome('exception', 'Internal error'));
    }
  });

  function search(type: string, all: FhirResource[], url: URL) {
    const matchers: Matcher[] = [];
    const includes: string[] = [];
    const revincludes: string[] = [];
    let count = opts.defaultCount ?? 20;
    let offset = 0;
    for (const [rawName, value] of url.searchParams) {
      const [name, modifier, ...extra] = rawName.split(':');
      if (!name || extra.length) throw new BadRequest(`Invalid parameter name ${rawName}`);
      if (name === '_count') {
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) throw new BadRequest(`_count must be an integer between 1 and 100, got ${value}`);
        count = Number(value);
      } else if (name === '_getpagesoffset') {
        if (!/^\d+$/.test(value)) throw new BadRequest('invalid page offset');
        offset = Number(value);
      } else if (name === '_include' || name === '_revinclude') {
        const allowed = INCLUDES[type]![name === '_include' ? 'include' : 'revinclude'];
        if (!allowed.includes(value)) throw new BadRequest(`${name}=${value} is not supported on ${type}`);
        (name === '_include' ? includes : revincludes).push(value);
      } else if (name === '_id') {
        const ids = value.split(',').filter(Boolean);
        if (!ids.length) throw new BadRequest('empty _id');
        matchers.push((r) => !!r.id && ids.includes(r.id));
      } else if (name === '_format') {
        if (!/json/.test(value)) throw new BadRequest(`Unsupported _format ${value}`);
      } else {
        const def = PARAMS[type]![name];
        if (!def || CONTROL.has(name)) throw new BadRequest(`Unknown search parameter "${name}" for resource type "${type}"`);
        if (modifier && !(def.type === 'string' && (modifier === 'exact' || modifier === 'contains'))) throw new BadRequest(`Unsupported modifier :${modifier} on ${name}`);
        if (!value) throw new BadRequest(`Empty value for ${name}`);
        matchers.push((r) => def.match(r, value, modifier));
      }
    }
    const matched = all.filter((r) => matchers.every((m) => m(r)));
    const page = matched.slice(offset, offset + count);
    const base = `${url.protocol}//${url.host}${basePath}`;
    const entries: { fullUrl: string; resource: FhirResource; search: { mode: string } }[] = page.map((r) => ({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } }));
    const seen = new Set(page.map((r) => `${type}/${r.id}`));
    const addInclude = (t: string, r: FhirResource | undefined) => {
      if (!r || seen.has(`${t}/${r.id}`)) return;
      seen.add(`${t}/${r.id}`);
      entries.push({ fullUrl: `${base}/${t}/${r.id}`, resource: r, search: { mode: 'include' } });
    };
    for (const inc of includes) {
      const target = inc === 'PractitionerRole:organization' ? 'Organization' : 'Practitioner';
      for (const r of page) addInclude(target, byType[target]!.find((x) => x.id === refId(target === 'Organization' ? r.organization : r.practitioner, target)));
    }
    for (const rev of revincludes) {
      const field = rev === 'PractitionerRole:practitioner' ? 'practitioner' : 'organization';
      for (const r of page) for (const role of opts.data.roles.filter((x) => refId(x[field], type) === r.id)) addInclude('PractitionerRole', role);
    }
    const pageUrl = (o: number) => {
      const u = new URL(url.href);
      u.searchParams.delete('_getpagesoffset');
      if (o > 0) u.searchParams.set('_getpagesoffset', String(o));
      return `${base}/${type}${u.search}`;
    };
    const link = [{ relation: 'self', url: pageUrl(offset) }];
    if (offset + count < matched.length) link.push({ relation: 'next', url: pageUrl(offset + count) });
    if (offset > 0) link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
    return { resourceType: 'Bundle', id: crypto.randomUUID(), meta: { lastUpdated: new Date().toISOString() }, type: 'searchset', total: matched.length, link, entry: entries };
  }

  function capability() {
    return {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString(),
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: [FHIR_JSON, 'json'],
      rest: [
        {
          mode: 'server',
          resource: Object.keys(PARAMS).map((t) => ({
            type: t,
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchInclude: INCLUDES[t]!.include,
            searchRevInclude: INCLUDES[t]!.revinclude,
            searchParam: Object.entries(PARAMS[t]!).map(([name, d]) => ({ name, type: d.type })),
          })),
        },
      ],
    };
  }

  return server;
}

/* ---------- sandbox data ---------- */
export interface DirectoryPerson {
  id: string;
  family: string;
  given: string;
  /** idNatPs: `8` + RPPS (11 digits). */
  nationalId: string;
  professionCode: string;
  specialtyCode?: string;
  /** Mailbox on the Practitioner (personal BAL). */
  mailbox?: string;
  /** Mailbox on the PractitionerRole only (the practitioner's BAL at that organisation). */
  roleMailbox?: string;
  organizationId: string;
  redList?: boolean;
  active?: boolean;
  /** An ordinary e-mail address (not MSSanté) published as well. */
  plainEmail?: string;
}
export interface DirectoryOrganization {
  id: string;
  name: string;
  city: string;
  postalCode: string;
  finess?: string;
  mailboxes?: { address: string; kind: 'ORG' | 'APP'; service?: string }[];
}

function mailboxTelecom(address: string, kind: string, opts: { redList?: boolean; service?: string } = {}) {
  return {
    system: 'email',
    value: address,
    extension: [
      { url: EMAIL_TYPE_URL, valueCoding: { system: EMAIL_TYPE_SYSTEM, code: EMAIL_TYPE_MSSANTE } },
      {
        url: MAILBOX_METADATA_URL,
        extension: [
          { url: 'type', valueCodeableConcept: { coding: [{ system: BAL_TYPE_SYSTEM, code: kind }] } },
          ...(opts.service ? [{ url: 'service', valueString: opts.service }] : []),
          { url: 'listeRouge', valueBoolean: !!opts.redList },
        ],
      },
    ],
  };
}

/** FHIR resources (as-dp profiles' shape) for people and organisations of the sandbox. */
export function buildDirectoryData(people: DirectoryPerson[], organizations: DirectoryOrganization[]): FhirDirectoryData {
  const meta = { lastUpdated: '2026-01-05T08:00:00.000+01:00', source: 'https://annuaire.sante.fr' };
  const orgs: FhirResource[] = organizations.map((o) => ({
    resourceType: 'Organization',
    id: o.id,
    meta: { ...meta, profile: ['https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-organization'] },
    active: true,
    identifier: o.finess ? [{ use: 'official', system: 'urn:oid:1.2.250.1.71.4.2.2', value: `1${o.finess}` }] : [],
    name: o.name,
    telecom: (o.mailboxes ?? []).map((m) => mailboxTelecom(m.address, m.kind, { service: m.service })),
    address: [{ use: 'work', line: ['1 RUE DU BAC A SABLE'], city: o.city, postalCode: o.postalCode, country: 'FRA' }],
  }));
  const practitioners: FhirResource[] = people.map((p) => ({
    resourceType: 'Practitioner',
    id: p.id,
    meta: { ...meta, profile: ['https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-practitioner'] },
    active: p.active ?? true,
    identifier: [
      { use: 'official', system: IDNPS_SYSTEM, value: p.nationalId, type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'IDNPS' }] } },
      { use: 'official', system: RPPS_SYSTEM, value: p.nationalId.slice(1), type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'RPPS' }] } },
    ],
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    telecom: [...(p.mailbox ? [mailboxTelecom(p.mailbox, 'PER', { redList: p.redList })] : []), ...(p.plainEmail ? [{ system: 'email', value: p.plainEmail }] : [])],
    qualification: [
      {
        code: {
          coding: [
            { system: PROFESSION_SYSTEM, code: p.professionCode },
            ...(p.specialtyCode ? [{ system: SPECIALTY_SYSTEM, code: p.specialtyCode }] : []),
          ],
        },
      },
    ],
  }));
  const roles: FhirResource[] = people.map((p) => ({
    resourceType: 'PractitionerRole',
    id: `${p.id}-role`,
    meta: { ...meta, profile: ['https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-practitionerrole'] },
    active: p.active ?? true,
    identifier: [{ system: 'https://annuaire.sante.fr', value: `SE${p.nationalId}` }],
    practitioner: { reference: `Practitioner/${p.id}` },
    organization: { reference: `Organization/${p.organizationId}` },
    telecom: p.roleMailbox ? [mailboxTelecom(p.roleMailbox, 'PER')] : [],
  }));
  return { practitioners, roles, organizations: orgs };
}

/**
 * The sandbox annuaire: the sandbox mailboxes (same people and organisation as the test extraction file) plus
 * practitioners only published online — a pharmacist and a nurse near Reims, 30 general practitioners named
 * MARTIN (paging), a red-listed one, an inactive one and one with only an ordinary e-mail address.
 */
export function sandboxDirectoryData(accounts: { address: string; kind: string; family?: string; given?: string; nationalId?: string; profession?: string }[], domain: string): FhirDirectoryData {
  const chId = 'org-ch-bac-a-sable';
  const ch: DirectoryOrganization = {
    id: chId,
    name: 'CH DU BAC A SABLE',
    city: 'REIMS',
    postalCode: '51100',
    finess: '510000001',
    mailboxes: accounts.filter((a) => a.kind === 'ORG' || a.kind === 'APP').map((a) => ({ address: a.address, kind: a.kind as 'ORG' | 'APP', ...(a.kind === 'ORG' ? { service: 'Cardiologie' } : {}) })),
  };
  const organizations: DirectoryOrganization[] = [
    ch,
    { id: 'org-pharmacie-epernay', name: 'PHARMACIE DES COTEAUX', city: 'EPERNAY', postalCode: '51200', finess: '510000002' },
    { id: 'org-cabinet-troyes', name: 'CABINET MEDICAL DE LA SEINE', city: 'TROYES', postalCode: '10000', finess: '100000003' },
    { id: 'org-msp-chalons', name: 'MAISON DE SANTE DE CHALONS', city: 'CHALONS-EN-CHAMPAGNE', postalCode: '51000', finess: '510000004', mailboxes: [{ address: `secretariat.msp-chalons@${domain}`, kind: 'ORG', service: 'Secrétariat' }] },
  ];
  const professionCode = (label?: string) => (foldKey(label ?? '')?.startsWith('pharm') ? '21' : foldKey(label ?? '')?.startsWith('infirm') ? '60' : '10');
  const people: DirectoryPerson[] = accounts
    .filter((a) => a.kind === 'PER' && a.nationalId && a.family)
    .map((a, i) => ({ id: `pp-sandbox-${i + 1}`, family: a.family!, given: a.given ?? '', nationalId: a.nationalId!, professionCode: professionCode(a.profession), specialtyCode: 'SM26', mailbox: a.address, organizationId: chId }));
  people.push(
    { id: 'pp-online-pharma', family: 'LEROY', given: 'Hélène', nationalId: '810009990001', professionCode: '21', mailbox: `helene.leroy@${domain}`, organizationId: 'org-pharmacie-epernay' },
    { id: 'pp-online-nurse', family: 'GARNIER', given: 'Lucie', nationalId: '810009990002', professionCode: '60', roleMailbox: `lucie.garnier.msp@${domain}`, organizationId: 'org-msp-chalons' },
    { id: 'pp-online-redlist', family: 'DISCRET', given: 'Paul', nationalId: '810009990003', professionCode: '10', mailbox: `paul.discret@${domain}`, redList: true, organizationId: 'org-cabinet-troyes' },
    { id: 'pp-online-inactive', family: 'ANCIEN', given: 'Marc', nationalId: '810009990004', professionCode: '10', mailbox: `marc.ancien@${domain}`, active: false, organizationId: 'org-cabinet-troyes' },
    { id: 'pp-online-plain', family: 'SANSBAL', given: 'Julie', nationalId: '810009990005', professionCode: '10', plainEmail: 'julie.sansbal@example.org', organizationId: 'org-cabinet-troyes' },
  );
  const givens = ['Alice', 'Bruno', 'Chloé', 'David', 'Emma', 'François', 'Gabrielle', 'Hugo', 'Inès', 'Jules'];
  const cities = ['org-cabinet-troyes', 'org-msp-chalons', chId];
  for (let i = 1; i <= 30; i++) {
    const n = String(i).padStart(2, '0');
    people.push({ id: `pp-online-martin-${n}`, family: 'MARTIN', given: givens[(i - 1) % givens.length]!, nationalId: `8100099911${n}`, professionCode: '10', specialtyCode: 'SM26', mailbox: `martin.${n}@${domain}`, organizationId: cities[(i - 1) % cities.length]! });
  }
  return buildDirectoryData(people, organizations);
}
