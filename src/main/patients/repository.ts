import type { Patient, PatientInput } from '../../shared/api/patients';
import { PatientInput as PatientInputSchema } from '../../shared/api/patients';
import { AppError } from '../core/errors';
import type { Db } from '../store/database';

interface Row {
  id: number;
  ins: string | null;
  ins_oid: string | null;
  ins_qualified: number;
  birth_family: string;
  birth_givens: string | null;
  first_given: string;
  used_family: string | null;
  used_given: string | null;
  gender: 'M' | 'F' | 'U';
  birth_date: string;
  birth_place: string | null;
  ipp: string | null;
  ipp_oid: string | null;
  source: string;
  created_at: string;
  updated_at: string;
}

function toPatient(r: Row): Patient {
  return {
    id: r.id,
    ins: r.ins,
    insOid: r.ins_oid,
    insQualified: r.ins_qualified === 1,
    birthFamily: r.birth_family,
    birthGivens: r.birth_givens,
    firstGiven: r.first_given,
    usedFamily: r.used_family,
    usedGiven: r.used_given,
    gender: r.gender,
    birthDate: r.birth_date,
    birthPlace: r.birth_place,
    ipp: r.ipp,
    ippOid: r.ipp_oid,
    source: r.source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The local patient registry (what the receiving side knows, used for INS matching). */
export class PatientRepository {
  constructor(private readonly db: Db) {}

  get(id: number): Patient {
    const r = this.db.prepare('SELECT * FROM patients WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new AppError('PATIENT_NOT_FOUND', "Ce patient n'existe pas dans le fichier local.", `patient ${id}`);
    return toPatient(r);
  }

  /** Exact lookup on the INS matricule AND its OID. */
  findByIns(ins: string, oid: string): Patient | undefined {
    const r = this.db.prepare('SELECT * FROM patients WHERE ins = ? AND ins_oid = ?').get(ins, oid) as Row | undefined;
    return r ? toPatient(r) : undefined;
  }

  findByIpp(ipp: string, oid: string): Patient | undefined {
    const r = this.db.prepare('SELECT * FROM patients WHERE ipp = ? AND ipp_oid = ?').get(ipp, oid) as Row | undefined;
    return r ? toPatient(r) : undefined;
  }

  list(text?: string, limit = 100): Patient[] {
    if (!text) return (this.db.prepare('SELECT * FROM patients ORDER BY birth_family, first_given LIMIT ?').all(limit) as Row[]).map(toPatient);
    const like = `%${text.replace(/[%_]/g, '')}%`;
    return (
      this.db
        .prepare(
          `SELECT * FROM patients WHERE birth_family LIKE @like OR used_family LIKE @like OR first_given LIKE @like
           OR ins LIKE @like OR ipp LIKE @like ORDER BY birth_family, first_given LIMIT @limit`,
        )
        .all({ like, limit }) as Row[]
    ).map(toPatient);
  }

  upsert(input: PatientInput, source = 'local'): Patient {
    const p = PatientInputSchema.parse(input);
    const now = new Date().toISOString();
    const existing = (p.ins && p.insOid ? this.findByIns(p.ins, p.insOid) : undefined) ?? (p.ipp && p.ippOid ? this.findByIpp(p.ipp, p.ippOid) : undefined);
    const values = {
      ins: p.ins ?? null,
      ins_oid: p.insOid ?? null,
      ins_qualified: p.insQualified ? 1 : 0,
      birth_family: p.birthFamily.toUpperCase(),
      birth_givens: p.birthGivens?.toUpperCase() ?? null,
      first_given: p.firstGiven.toUpperCase(),
      used_family: p.usedFamily?.toUpperCase() ?? null,
      used_given: p.usedGiven?.toUpperCase() ?? null,
      gender: p.gender,
      birth_date: p.birthDate,
      birth_place: p.birthPlace ?? null,
      ipp: p.ipp ?? null,
      ipp_oid: p.ippOid ?? null,
      source,
      now,
    };
    try {
      if (existing) {
        this.db
          .prepare(
            `UPDATE patients SET ins=@ins, ins_oid=@ins_oid, ins_qualified=@ins_qualified, birth_family=@birth_family,
             birth_givens=@birth_givens, first_given=@first_given, used_family=@used_family, used_given=@used_given,
             gender=@gender, birth_date=@birth_date, birth_place=@birth_place, ipp=@ipp, ipp_oid=@ipp_oid, updated_at=@now
             WHERE id=@id`,
          )
          .run({ ...values, id: existing.id });
        return this.get(existing.id);
      }
      const r = this.db
        .prepare(
          `INSERT INTO patients (ins, ins_oid, ins_qualified, birth_family, birth_givens, first_given, used_family, used_given,
           gender, birth_date, birth_place, ipp, ipp_oid, source, created_at, updated_at)
           VALUES (@ins, @ins_oid, @ins_qualified, @birth_family, @birth_givens, @first_given, @used_family, @used_given,
           @gender, @birth_date, @birth_place, @ipp, @ipp_oid, @source, @now, @now)`,
        )
        .run(values);
      return this.get(Number(r.lastInsertRowid));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new AppError('PATIENT_DUPLICATE', 'Un autre patient porte déjà cette INS ou cet IPP.', (err as Error).message);
      }
      throw err;
    }
  }
}
