export { ShareScreen } from './ShareScreen';
