/**
 * A synthetic ANS-shaped MSSanté directory extraction (same columns as the public bulk file), with
 * realistic skew: a few very common professions and big cities, many rare names. Deterministic (seeded).
 * Shared by the directory benchmark and tests.
 */
import fs from 'node:fs';
import { ANS_EXTRACTION_HEADER } from '../src/main/mssante/directory';

const SYL = ['ma', 'ri', 'lo', 'ber', 'du', 'pont', 'mar', 'tin', 'le', 'roy', 'fa', 'vre', 'gar', 'nier', 'bou', 'chet', 'mo', 'rel', 'lam', 'bert', 'gi', 'rard', 'fon', 'taine', 'che', 'val', 'ier', 'ro', 'ux', 'bla', 'nc'];
const GIVEN = ['Jean', 'Marie', 'Pierre', 'Claire', 'Sophie', 'Nicolas', 'Julie', 'Thomas', 'Camille', 'Lucas', 'Emma', 'Hugo', 'Léa', 'Louis', 'Chloé', 'Hélène', 'François', 'Amélie', 'Jérôme', 'Anaïs', 'Benoît', 'Cécile', 'Élodie', 'Grégoire', 'Inès', 'Loïc', 'Noémie', 'Raphaël', 'Zoé', 'Mathéo'];
/** [label, weight] */
const PROFESSIONS: [string, number][] = [
  ['Médecin', 40],
  ['Infirmier', 25],
  ['Pharmacien', 10],
  ['Masseur-Kinésithérapeute', 8],
  ['Chirurgien-Dentiste', 6],
  ['Sage-Femme', 4],
  ['Pédicure-Podologue', 2],
  ['Orthophoniste', 2],
  ['Psychologue', 2],
  ['Diététicien', 1],
];
const BIG_CITIES = ['PARIS', 'MARSEILLE', 'LYON', 'TOULOUSE', 'NICE', 'NANTES', 'STRASBOURG', 'MONTPELLIER', 'BORDEAUX', 'LILLE', 'RENNES', 'REIMS'];

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export const DIRECTORY_HEADER = ANS_EXTRACTION_HEADER;

export interface SyntheticRow {
  address: string;
  nationalId: string;
  family: string;
  given: string;
  profession: string;
  city: string;
}

/** Writes `n` rows; returns a few rows (every 10 000th) to query for. */
export function writeDirectoryExtraction(file: string, n: number, seed = 42): SyntheticRow[] {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
  const totalW = PROFESSIONS.reduce((a, [, w]) => a + w, 0);
  const profession = () => {
    let x = r() * totalW;
    for (const [p, w] of PROFESSIONS) if ((x -= w) < 0) return p;
    return PROFESSIONS[0]![0];
  };
  const cities = [...BIG_CITIES, ...Array.from({ length: 3000 }, (_, i) => `COMMUNE ${pick(SYL).toUpperCase()}${pick(SYL).toUpperCase()} ${i}`)];
  const city = () => (r() < 0.35 ? pick(BIG_CITIES) : pick(cities));
  const fd = fs.openSync(file, 'w');
  const samples: SyntheticRow[] = [];
  let buf: string[] = [DIRECTORY_HEADER];
  for (let i = 0; i < n; i++) {
    const family = (pick(SYL) + pick(SYL) + (r() < 0.6 ? pick(SYL) : '')).toUpperCase();
    const given = pick(GIVEN);
    const rpps = String(10000000000 + i);
    const nationalId = `8${rpps}`;
    const prof = profession();
    const c = city();
    const org = r() < 0.3 ? `CH ${c}` : `CABINET ${family}`;
    const kind = r() < 0.9 ? 'PER' : 'ORG';
    const address = `${given.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()}.${family.toLowerCase()}.${i}@${r() < 0.5 ? 'medecin' : 'pro'}.mssante.fr`;
    buf.push([kind, address, '8', rpps, nationalId, family, given, prof, prof === 'Médecin' ? pick(['Médecine générale', 'Cardiologie', 'Radiologie', 'Pédiatrie']) : '', org, String(10000 + Math.floor(r() * 85000)), c].join('|'));
    if (i % 10_000 === 5_000) samples.push({ address, nationalId, family, given, profession: prof, city: c });
    if (buf.length >= 10_000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
  return samples;
}
