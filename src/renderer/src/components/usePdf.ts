import { useEffect, useMemo, useState } from 'react';

/** The PDF bytes of a base64 payload, and a blob: URL of them for the download link (revoked on change). */
export function usePdf(base64: string | null | undefined): { bytes?: Uint8Array; url?: string } {
  const bytes = useMemo(() => {
    if (!base64) return undefined;
    const bin = atob(base64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }, [base64]);
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!bytes) return setUrl(undefined);
    const u = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [bytes]);
  return { bytes, url };
}
