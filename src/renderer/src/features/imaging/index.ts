export { ImagingScreen } from './ImagingScreen';
export { useImagingRequest, type ImagingOpenRequest } from './store';
