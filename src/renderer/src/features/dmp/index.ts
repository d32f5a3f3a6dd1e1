export { DmpScreen } from './DmpScreen';
export { useDmp } from './store';
