export { PatientRepository } from './repository';
export { patientsMigrations } from './migrations';
export { registerPatientsHandlers } from './handlers';
