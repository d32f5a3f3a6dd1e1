import { formatDate } from '../format';
import { patientName, usePatient } from '../store/patient';
import { useApp } from '../store/app';
import { StatusBadge } from './StatusBadge';

/** Who the current work is about, always visible; a click leads to the patient's choice. */
export function PatientBanner() {
  const current = usePatient((s) => s.current);
  const go = useApp((s) => s.go);
  if (!current) {
    return (
      <div className="patient-banner">
        <span className="muted">Aucun patient sélectionné.</span>
        <button type="button" className="button button-secondary" onClick={() => go('patients')}>
          Choisir un patient
        </button>
      </div>
    );
  }
  return (
    <div className="patient-banner" data-testid="patient-banner">
      <strong>{patientName(current)}</strong>
      <span>
        {current.gender === 'F' ? 'Née' : 'Né'} le {formatDate(current.birthDate)}
      </span>
      {current.ins ? (
        <span>
          INS <code>{current.ins}</code>{' '}
          <StatusBadge tone={current.insQualified ? 'success' : 'warning'}>{current.insQualified ? 'qualifiée' : 'non qualifiée'}</StatusBadge>
        </span>
      ) : (
        <StatusBadge tone="warning">sans INS</StatusBadge>
      )}
      <button type="button" className="button button-secondary" onClick={() => go('patients')}>
        Changer
      </button>
    </div>
  );
}
