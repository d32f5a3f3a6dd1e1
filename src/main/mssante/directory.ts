import fs from 'node:fs';
import readline from 'node:readline';
import type { DirectoryEntry } from '../../shared/api/mssante';
import { AppError } from '../core/errors';
import type { Db } from '../store/database';

/**
 * Local index of the ANS public bulk extraction of MSSanté mailboxes (annuaire santé, refreshed daily):
 * streamed import into SQLite + an FTS5 index, multi-criteria search (name, first name, profession, city,
 * national id) in milliseconds, offline.
 *
 * The extraction is a delimited text file (`|`, else `;` or tab) with a header row. Column names below are
 * **unconfirmed** (as summarised by implementers); they are matched case/accent-insensitively, with aliases.
 */
/** The column layout of the ANS public bulk extraction, as the sandbox and the benchmark write it. */
export const ANS_EXTRACTION_HEADER = [
  'Type de BAL',
  'Adresse BAL',
  "Type d'identifiant PP",
  'Identifiant PP',
  'Identification nationale PP',
  "Nom d'exercice",
  "Prénom d'exercice",
  'Libellé profession',
  'Libellé savoir-faire',
  'Raison sociale site',
  'Code postal',
  'Libellé commune',
].join('|');

export const DIRECTORY_COLUMNS: Record<keyof Omit<DirectoryEntry, 'source'>, string[]> = {
  address: ['adresse bal', 'adresse messagerie', 'adresse mssante', 'adresse de messagerie', 'mail'],
  kind: ['type bal', 'type de bal'],
  nationalId: ['identification nationale pp', 'identifiant pp', 'identifiant national', 'rpps'],
  family: ["nom d exercice", 'nom exercice', 'nom'],
  given: ["prenom d exercice", 'prenom exercice', 'prenom'],
  profession: ['libelle profession', 'profession'],
  specialty: ['libelle savoir faire', 'savoir faire', 'specialite'],
  organization: ['raison sociale site', 'raison sociale structure', 'raison sociale', 'enseigne commerciale site'],
  city: ['libelle commune', 'commune', 'ville', 'libelle commune (coord. structure)'],
  postalCode: ['code postal', 'code postal (coord. structure)'],
};

function normHeader(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9()]+/g, ' ')
    .trim();
}

export async function importDirectory(db: Db, file: string): Promise<{ rows: number; skipped: number; tookMs: number }> {
  const t0 = performance.now();
  if (!fs.existsSync(file)) throw new AppError('DIRECTORY_FILE_MISSING', `Le fichier ${file} est introuvable.`, file);
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header: string[] | undefined;
  let sep = '|';
  let index: Partial<Record<keyof DirectoryEntry, number>> = {};
  let rows = 0;
  let skipped = 0;
  // Rows go to a per-connection staging table first; the live index is swapped in ONE transaction at the
  // end, so a refused file, a bad line or a crash mid-import leaves the previous index intact.
  db.exec(`DROP TABLE IF EXISTS temp.mss_directory_import;
    CREATE TEMP TABLE mss_directory_import (address TEXT NOT NULL, kind TEXT, national_id TEXT, family TEXT, given TEXT, profession TEXT, specialty TEXT, organization TEXT, city TEXT, postal_code TEXT, profession_key TEXT, city_key TEXT)`);
  const insert = db.prepare(
    `INSERT INTO temp.mss_directory_import (address, kind, national_id, family, given, profession, specialty, organization, city, postal_code, profession_key, city_key)
     VALUES (@address, @kind, @nationalId, @family, @given, @profession, @specialty, @organization, @city, @postalCode, @professionKey, @cityKey)`,
  );
  let batch: Record<string, string | null>[] = [];
  const flush = db.transaction((items: Record<string, string | null>[]) => {
    for (const it of items) insert.run(it);
  });
  try {
    for await (const rawLine of rl) {
      const line = rawLine.replace(/^\uFEFF/, '');
      if (!line.trim()) continue;
      if (!header) {
        sep = line.includes('|') ? '|' : line.includes(';') ? ';' : '\t';
        header = line.split(sep).map(normHeader);
        index = {};
        for (const [key, aliases] of Object.entries(DIRECTORY_COLUMNS) as [keyof DirectoryEntry, string[]][]) {
          // Aliases in order of preference: "Identification nationale PP" wins over "Identifiant PP".
          for (const alias of aliases) {
            const i = header.indexOf(alias);
            if (i >= 0) {
              index[key] = i;
              break;
            }
          }
        }
        if (index.address === undefined) {
          throw new AppError('DIRECTORY_FORMAT', "Ce fichier n'est pas une extraction de l'annuaire MSSanté : la colonne d'adresse est absente.", `header: ${header.slice(0, 12).join(' | ')}`);
        }
        continue;
      }
      const cells = line.split(sep);
      const get = (k: keyof DirectoryEntry) => {
        const i = index[k];
        const v = i === undefined ? undefined : cells[i]?.trim().replace(/^"|"$/g, '');
        return v ? v : null;
      };
      const address = get('address');
      if (!address || !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(address)) {
        skipped++;
        continue;
      }
      batch.push({
        address: address.toLowerCase(),
        kind: get('kind'),
        nationalId: get('nationalId'),
        family: get('family'),
        given: get('given'),
        profession: get('profession'),
        specialty: get('specialty'),
        organization: get('organization'),
        city: get('city'),
        postalCode: get('postalCode'),
        professionKey: foldKey(get('profession')),
        cityKey: foldKey(get('city')),
      });
      if (batch.length >= 5000) {
        flush(batch);
        rows += batch.length;
        batch = [];
      }
    }
    if (!header) throw new AppError('DIRECTORY_FORMAT', 'Le fichier est vide.', file);
    flush(batch);
    rows += batch.length;
    db.transaction(() => {
      db.exec('DELETE FROM mss_directory');
      db.exec(`INSERT INTO mss_directory (address, kind, national_id, family, given, profession, specialty, organization, city, postal_code, profession_key, city_key)
               SELECT address, kind, national_id, family, given, profession, specialty, organization, city, postal_code, profession_key, city_key FROM temp.mss_directory_import`);
      db.exec("INSERT INTO mss_directory_fts(mss_directory_fts) VALUES('rebuild')");
      db.prepare(
        `INSERT INTO mss_directory_meta (one, source, imported_at, rows) VALUES (1, ?, ?, ?)
         ON CONFLICT(one) DO UPDATE SET source = excluded.source, imported_at = excluded.imported_at, rows = excluded.rows`,
      ).run(file, new Date().toISOString(), rows);
    })();
  } finally {
    rl.close();
    db.exec('DROP TABLE IF EXISTS temp.mss_directory_import');
  }
  return { rows, skipped, tookMs: Math.round(performance.now() - t0) };
}

/** Folded form of a value for the B-tree keys: lower case, no diacritics, words separated by one space. */
export function foldKey(v: string | null | undefined): string | null {
  if (!v) return null;
  const k = v
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  return k || null;
}

/** Matches are counted up to this number (beyond: "more than", refine the search). */
export const TOTAL_CAP = 1000;
const collator = new Intl.Collator('fr', { sensitivity: 'base' });

/** FTS5 query term: prefix match on each word, quotes escaped, diacritics folded by the tokenizer. */
function ftsTerms(column: string | undefined, value: string): string[] {
  return value
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .map((w) => `${column ? `${column} : ` : ''}"${w.replace(/"/g, '""')}"*`);
}

export function searchDirectory(
  db: Db,
  q: { text?: string; family?: string; given?: string; profession?: string; city?: string; nationalId?: string; limit?: number },
): { total: number; entries: DirectoryEntry[]; tookMs: number } {
  const t0 = performance.now();
  const terms: string[] = [];
  if (q.text) terms.push(...ftsTerms(undefined, q.text));
  if (q.family) terms.push(...ftsTerms('family', q.family));
  if (q.given) terms.push(...ftsTerms('given', q.given));
  if (q.profession) terms.push(...ftsTerms('profession', q.profession));
  if (q.city) terms.push(...ftsTerms('city', q.city));
  const limit = q.limit ?? 50;
  const cols = `d.address, d.kind, d.national_id AS nationalId, d.family, d.given, d.profession, d.specialty, d.organization, d.city, d.postal_code AS postalCode`;
  let entries: DirectoryEntry[] = [];
  let total = 0;
  if (!terms.length && !q.nationalId) return { total: 0, entries: [], tookMs: 0 };
  const pk = foldKey(q.profession);
  const ck = foldKey(q.city);
  let viaKeys = false;
  if (!q.text && !q.family && !q.given && !q.nationalId && (pk || ck)) {
    // Profession and/or city alone: an index range on the folded keys (prefix of the whole value) instead of
    // intersecting the huge full-text doclists of such common words; full text below if nothing matches.
    const where = [pk ? `d.profession_key >= @pk AND d.profession_key < @pk || x'ff'` : '', ck ? `d.city_key >= @ck AND d.city_key < @ck || x'ff'` : ''].filter(Boolean).join(' AND ');
    const params = { pk, ck, limit };
    entries = db.prepare(`SELECT ${cols} FROM mss_directory d WHERE ${where} LIMIT @limit`).all(params) as DirectoryEntry[];
    if (entries.length) {
      viaKeys = true;
      total = entries.length < limit ? entries.length : (db.prepare(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM mss_directory d WHERE ${where} LIMIT ${TOTAL_CAP})`).get(params) as { n: number }).n;
    }
  }
  if (viaKeys) {
    // found through the keys
  } else if (terms.length) {
    // With a name (selective), profession/city filter the name's matches through their keys rather than
    // joining their huge doclists in the full-text query; the all-full-text form is the fallback (word
    // prefixes inside the value, e.g. "femme" in "sage femme").
    const nameTerms = [...(q.text ? ftsTerms(undefined, q.text) : []), ...(q.family ? ftsTerms('family', q.family) : []), ...(q.given ? ftsTerms('given', q.given) : [])];
    const run = (match: string, keyFilter: boolean) => {
      const extra = [q.nationalId ? 'd.national_id = @nid' : '', keyFilter && pk ? `d.profession_key >= @pk AND d.profession_key < @pk || x'ff'` : '', keyFilter && ck ? `d.city_key >= @ck AND d.city_key < @ck || x'ff'` : '']
        .filter(Boolean)
        .map((c) => ` AND ${c}`)
        .join('');
      const params = { match, nid: q.nationalId ?? null, pk, ck, limit };
      // No relevance ORDER BY: ranking every match of a common term is what costs; FTS5 stops at LIMIT in
      // index order and the page is sorted by name below. The total is counted up to TOTAL_CAP.
      const found = db.prepare(`SELECT ${cols} FROM mss_directory_fts f JOIN mss_directory d ON d.id = f.rowid WHERE mss_directory_fts MATCH @match${extra} LIMIT @limit`).all(params) as DirectoryEntry[];
      const n =
        found.length < limit
          ? found.length
          : (db.prepare(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM mss_directory_fts f JOIN mss_directory d ON d.id = f.rowid WHERE mss_directory_fts MATCH @match${extra} LIMIT ${TOTAL_CAP})`).get(params) as { n: number }).n;
      return { found, n };
    };
    let r = nameTerms.length && (pk || ck) ? run(nameTerms.join(' AND '), true) : undefined;
    if (!r?.found.length) r = run(terms.join(' AND '), false);
    entries = r.found;
    total = r.n;
  } else {
    entries = db.prepare(`SELECT ${cols} FROM mss_directory d WHERE d.national_id = ? LIMIT ?`).all(q.nationalId, limit) as DirectoryEntry[];
    total = entries.length;
  }
  entries.sort((a, b) => collator.compare(`${a.family ?? ''} ${a.given ?? ''} ${a.organization ?? ''}`, `${b.family ?? ''} ${b.given ?? ''} ${b.organization ?? ''}`) || a.address.localeCompare(b.address));
  return { total, entries, tookMs: Math.round((performance.now() - t0) * 100) / 100 };
}
