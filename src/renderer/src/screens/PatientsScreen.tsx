import { useEffect, useState, type FormEvent } from 'react';
import type { Patient, PatientInput } from '../../../shared/api';
import type { ApiError } from '../../../shared/api/types';
import { lps, toApiError } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { Field } from '../components/Field';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { formatDate } from '../format';
import { patientName, usePatient } from '../store/patient';

const EMPTY: PatientInput = { birthFamily: '', firstGiven: '', gender: 'F', birthDate: '', insQualified: false };

export function PatientsScreen() {
  const { current, select, recentIds } = usePatient();
  const [text, setText] = useState('');
  const [list, setList] = useState<Patient[]>();
  const [error, setError] = useState<ApiError>();
  const [creating, setCreating] = useState(false);

  const search = (t = text) => {
    setError(undefined);
    lps.invoke('patients.list', { text: t || undefined, limit: 100 }).then(setList, (e) => setError(toApiError(e)));
  };
  useEffect(() => search(''), []);

  const recent = (list ?? []).filter((p) => recentIds.includes(p.id)).sort((a, b) => recentIds.indexOf(a.id) - recentIds.indexOf(b.id));

  return (
    <section aria-labelledby="patients-title">
      <h1 id="patients-title">Patients</h1>
      <div className="split">
        <div className="panel">
          <form
            className="row"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              search();
            }}
          >
            <label className="sr-only" htmlFor="patient-search">
              Rechercher un patient
            </label>
            <input id="patient-search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Nom, INS ou IPP" />
            <button type="submit" className="button">
              Rechercher
            </button>
          </form>
          {error ? <ErrorNotice error={error} onRetry={() => search()} /> : null}
          {!list && !error ? <Loading /> : null}
          {recent.length > 0 && !text ? (
            <>
              <h2>Récents</h2>
              <PatientList patients={recent} selected={current?.id} onSelect={select} />
            </>
          ) : null}
          <h2>{text ? 'Résultats' : 'Tous les patients'}</h2>
          {list && list.length === 0 ? <Empty title="Aucun patient trouvé." /> : null}
          {list && list.length > 0 ? <PatientList patients={list} selected={current?.id} onSelect={select} /> : null}
          <p>
            <button type="button" className="button button-secondary" onClick={() => setCreating(true)}>
              Nouveau patient
            </button>
          </p>
        </div>
        <div className="panel">
          {creating ? (
            <PatientForm
              onCancel={() => setCreating(false)}
              onSaved={(p) => {
                setCreating(false);
                select(p);
                search();
              }}
            />
          ) : current ? (
            <PatientDetails patient={current} />
          ) : (
            <Empty title="Sélectionnez un patient ou créez-le.">
              <p>Le patient choisi sert à tous les écrans : partage, messagerie, DMP et imagerie.</p>
            </Empty>
          )}
        </div>
      </div>
    </section>
  );
}

function PatientList({ patients, selected, onSelect }: { patients: Patient[]; selected?: number; onSelect(p: Patient): void }) {
  return (
    <ul className="list">
      {patients.map((p) => (
        <li key={p.id}>
          <button type="button" className={`list-item${p.id === selected ? ' selected' : ''}`} aria-pressed={p.id === selected} onClick={() => onSelect(p)}>
            <strong>{patientName(p)}</strong> <span className="muted">— {formatDate(p.birthDate)}</span>{' '}
            {p.ins ? <StatusBadge tone={p.insQualified ? 'success' : 'warning'}>{p.insQualified ? 'INS qualifiée' : 'INS non qualifiée'}</StatusBadge> : null}
          </button>
        </li>
      ))}
    </ul>
  );
}

function PatientDetails({ patient: p }: { patient: Patient }) {
  return (
    <>
      <h2>{patientName(p)}</h2>
      <dl className="facts">
        <dt>Nom de naissance</dt>
        <dd>{p.birthFamily}</dd>
        <dt>Prénoms de naissance</dt>
        <dd>{p.birthGivens ?? '—'}</dd>
        <dt>Premier prénom</dt>
        <dd>{p.firstGiven}</dd>
        <dt>Sexe</dt>
        <dd>{p.gender === 'F' ? 'Féminin' : p.gender === 'M' ? 'Masculin' : 'Indéterminé'}</dd>
        <dt>Date de naissance</dt>
        <dd>{formatDate(p.birthDate)}</dd>
        <dt>Lieu de naissance (INSEE)</dt>
        <dd>{p.birthPlace ?? '—'}</dd>
        <dt>INS</dt>
        <dd>
          {p.ins ? (
            <>
              <code>{p.ins}</code> ({p.insOid}) — {p.insQualified ? 'qualifiée : utilisable dans les échanges' : 'non qualifiée : ne peut pas identifier le patient dans les échanges'}
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>IPP</dt>
        <dd>{p.ipp ? `${p.ipp} (${p.ippOid})` : '—'}</dd>
      </dl>
    </>
  );
}

function PatientForm({ onCancel, onSaved }: { onCancel(): void; onSaved(p: Patient): void }) {
  const [v, setV] = useState<PatientInput>(EMPTY);
  const [error, setError] = useState<ApiError>();
  const set = (k: keyof PatientInput, value: unknown) => setV((s) => ({ ...s, [k]: value === '' ? undefined : value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      onSaved(await lps.invoke('patients.upsert', { ...v, insOid: v.ins ? (v.insOid ?? '1.2.250.1.213.1.4.8') : undefined }));
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="new-patient-title">
      <h2 id="new-patient-title">Nouveau patient</h2>
      <p className="muted">Traits stricts de l'identité, tels qu'ils figurent sur la pièce d'identité ou le téléservice INSi.</p>
      <div className="form-grid">
        <Field id="p-family" label="Nom de naissance">
          <input id="p-family" required value={v.birthFamily} onChange={(e) => set('birthFamily', e.target.value.toUpperCase())} />
        </Field>
        <Field id="p-givens" label="Prénoms de naissance">
          <input id="p-givens" value={v.birthGivens ?? ''} onChange={(e) => set('birthGivens', e.target.value.toUpperCase())} />
        </Field>
        <Field id="p-first" label="Premier prénom">
          <input id="p-first" required value={v.firstGiven} onChange={(e) => set('firstGiven', e.target.value.toUpperCase())} />
        </Field>
        <Field id="p-gender" label="Sexe">
          <select id="p-gender" value={v.gender} onChange={(e) => set('gender', e.target.value)}>
            <option value="F">Féminin</option>
            <option value="M">Masculin</option>
            <option value="U">Indéterminé</option>
          </select>
        </Field>
        <Field id="p-birth" label="Date de naissance">
          <input id="p-birth" type="date" required value={v.birthDate} onChange={(e) => set('birthDate', e.target.value)} />
        </Field>
        <Field id="p-place" label="Lieu de naissance (code INSEE)" help="5 caractères, ex. 51215 ; 99xxx hors de France">
          <input id="p-place" value={v.birthPlace ?? ''} onChange={(e) => set('birthPlace', e.target.value)} />
        </Field>
        <Field id="p-ins" label="INS (matricule + clé)" help="15 caractères">
          <input id="p-ins" inputMode="numeric" value={v.ins ?? ''} onChange={(e) => set('ins', e.target.value.replace(/\s/g, ''))} />
        </Field>
        <Field id="p-ins-oid" label="Nature de l'INS">
          <select id="p-ins-oid" value={v.insOid ?? '1.2.250.1.213.1.4.8'} onChange={(e) => set('insOid', e.target.value)}>
            <option value="1.2.250.1.213.1.4.8">NIR (INS-NIR)</option>
            <option value="1.2.250.1.213.1.4.9">NIA (INS-NIA)</option>
            <option value="1.2.250.1.213.1.4.10">NIR de test</option>
            <option value="1.2.250.1.213.1.4.11">NIR de démonstration</option>
          </select>
        </Field>
        <Field id="p-ipp" label="IPP (identifiant local)">
          <input id="p-ipp" value={v.ipp ?? ''} onChange={(e) => set('ipp', e.target.value)} />
        </Field>
        <Field id="p-ipp-oid" label="OID de l'IPP">
          <input id="p-ipp-oid" value={v.ippOid ?? ''} onChange={(e) => set('ippOid', e.target.value)} />
        </Field>
      </div>
      <label className="row">
        <input type="checkbox" checked={!!v.insQualified} onChange={(e) => set('insQualified', e.target.checked)} /> INS qualifiée (vérifiée par le
        téléservice INSi et une pièce d'identité)
      </label>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="row">
        <button type="submit" className="button">
          Enregistrer
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel}>
          Annuler
        </button>
      </div>
    </form>
  );
}
