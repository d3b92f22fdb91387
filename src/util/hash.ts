// A naming hash for the names berth gives kernel objects and files (not a security one).

/** 64-bit FNV-1a as 16 hex chars (no node:crypto to load on the start path). */
export function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

/** The key of a state directory (the engine's root, berth-runtime's): 12 hex chars of its real path's hash, naming its cgroups and the like. */
export function rootKey(realPath: string): string {
  return fnv64(realPath).slice(0, 12);
}
