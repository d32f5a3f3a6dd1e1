// oidc-provider ships no type declarations; the parts used are typed locally in sandbox-provider.ts.
declare module 'oidc-provider';
