/** The two methods of libmime (the header codec mailparser is built on) that `mime-read.ts` uses. */
declare module 'libmime' {
  const libmime: {
    decodeWords(value: string): string;
    parseHeaderValue(value: string): { value: string; params: Record<string, string> };
  };
  export default libmime;
}
