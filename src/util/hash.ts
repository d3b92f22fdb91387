// A naming hash for the names berth gives kernel objects and files (not a security one).

/** 64-bit FNV-1a as 16 hex chars (no node:crypto to load on the start path). */
export function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}
