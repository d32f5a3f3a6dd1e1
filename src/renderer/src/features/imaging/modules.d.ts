/* Typings for the untyped viewer packages and the codec builds (only what this feature uses). */
declare module 'cornerstone-tools';
declare module 'cornerstone-math';
declare module 'cornerstone-wado-image-loader/dist/dynamic-import/cornerstoneWADOImageLoader.min.js';
declare module 'dicom-parser';
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (opts: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (opts: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (opts: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '*?url' {
  const url: string;
  export default url;
}
