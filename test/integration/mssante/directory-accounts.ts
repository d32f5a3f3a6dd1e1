/** The sandbox mailboxes as the directory tests index them (local extraction and FHIR annuaire alike). */
export const DOMAIN = 'sandbox.mssante.fr';
export const ACCOUNTS = [
  { address: `claire.durand@${DOMAIN}`, kind: 'PER', family: 'DURAND', given: 'Claire', nationalId: '899700012345', profession: 'Médecin' },
  { address: `jean.dupont@${DOMAIN}`, kind: 'PER', family: 'DUPONT', given: 'Jean', nationalId: '810001234567', profession: 'Médecin' },
  { address: `cardiologie.ch-sandbox@${DOMAIN}`, kind: 'ORG' },
  { address: `pfi.ch-sandbox@${DOMAIN}`, kind: 'APP' },
];
