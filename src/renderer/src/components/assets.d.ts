/** Vite `?url` imports: the URL of a file emitted as an asset. */
declare module '*.css?url' {
  const url: string;
  export default url;
}
declare module '*.mjs?url' {
  const url: string;
  export default url;
}
