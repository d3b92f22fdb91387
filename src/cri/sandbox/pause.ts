// The image a sandbox runs: berth's own pause image (engine/pause.ts), put into the store on
// first use, never pulled.
import { ensurePauseImage } from '../../engine/pause.ts';
import type { Engine } from '../../engine/engine.ts';

export async function pauseImage(engine: Engine): Promise<{ image: string; cmd?: string[] }> {
  return { image: await ensurePauseImage(engine) };
}
