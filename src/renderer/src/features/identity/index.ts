export { IdentityGate } from './IdentityGate';
export { SessionHeader } from './SessionHeader';
export { LockScreen } from './LockScreen';
export { useIdentity, practitionerName } from './store';
