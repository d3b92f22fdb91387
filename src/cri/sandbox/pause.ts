// The image a sandbox runs. FALLBACK until cri-engine's src/engine/pause.ts (ensurePauseImage)
// lands on main: busybox sleeping stands in for the pause process.
import type { Engine } from '../../engine/engine.ts';

export async function pauseImage(_engine: Engine): Promise<{ image: string; cmd?: string[] }> {
  return { image: 'busybox:latest', cmd: ['sleep', '2147483647'] };
}
