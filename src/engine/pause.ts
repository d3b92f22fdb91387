// berth's own pause image: what a CRI pod sandbox runs to hold the pod's namespaces. One layer
// holding /pause (native/pause.c, built with the shim), made from the local binary, never pulled.
//
// Everything in it is a function of the binary's bytes (the tar's header fields, the config's
// dates), so the image id is too: two processes making it at once make the same layer (the layer
// store settles that race), the same config blob and record (written whole by rename) and point
// the same tag at it. A rebuilt binary gives a new image under the same tag.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../content/store.ts';
import { BerthError } from '../core/errors.ts';
import type { ImageConfig } from '../core/types.ts';
import { VERSION } from '../core/version.ts';
import { hostPlatform } from '../image/manifest.ts';
import { MEDIA, type ImageStore } from '../image/store.ts';
import { tarHeader } from '../snapshot/diff.ts';
import { REPO } from '../util/paths.ts';

export const PAUSE_IMAGE = `berth.local/pause:${VERSION}`;
/** The static binary native/Makefile builds (BERTH_PAUSE names another, for tests). */
export const PAUSE_BINARY = process.env.BERTH_PAUSE ?? path.join(REPO, 'native/build/pause');
const EPOCH = '1970-01-01T00:00:00Z';

/** A layer tar of one file, /pause, every header field fixed. */
export function pauseLayerTar(binary: Buffer): Buffer {
  const header = tarHeader({ name: 'pause', type: '0', mode: 0o755, uid: 0, gid: 0, size: binary.length, mtime: 0 });
  const pad = Buffer.alloc((512 - (binary.length % 512)) % 512);
  return Buffer.concat([header, binary, pad, Buffer.alloc(1024)]);
}

/** The image config for a layer with that diff id. */
export function pauseConfig(diffId: string): ImageConfig {
  const { os, architecture } = hostPlatform();
  return {
    architecture,
    os,
    created: EPOCH,
    config: { Entrypoint: ['/pause'], Labels: { 'io.berth.pause': 'true' } },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: EPOCH, created_by: 'berth pause image (native/pause.c)' }],
  };
}

/** True when the ELF file asks for a program interpreter (a dynamic binary, useless alone in an image). */
export function elfIsDynamic(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new BerthError('FailedPrecondition', 'the pause binary is not an ELF file');
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (o: number) => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o: number) => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const phoff = is64 ? Number(le ? elf.readBigUInt64LE(32) : elf.readBigUInt64BE(32)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 <= elf.length && u32(at) === 3 /* PT_INTERP */) return true;
  }
  return false;
}

/**
 * Puts the pause image into the store unless it is there already, and returns its reference.
 * Safe to call from several processes at once; costs one read and hash of the binary when the
 * image exists.
 */
export async function ensurePauseImage(engine: { images: ImageStore }): Promise<string> {
  let binary: Buffer;
  try {
    binary = fs.readFileSync(PAUSE_BINARY);
  } catch (err) {
    throw new BerthError('FailedPrecondition', 'the pause binary is missing: build native/ with make', { cause: err });
  }
  if (elfIsDynamic(binary)) throw new BerthError('FailedPrecondition', 'the pause binary is not static (no static C library when it was built): it cannot run alone in an image');
  const tar = pauseLayerTar(binary);
  const diffId = sha256(tar);
  const config = pauseConfig(diffId);
  const id = sha256(Buffer.from(JSON.stringify(config)));
  const images = engine.images;
  if (images.idOf(PAUSE_IMAGE) === id && images.layers.has(diffId)) return PAUSE_IMAGE;
  if (!images.layers.has(diffId)) {
    const stored = await images.storeLayer((async function* () {
      yield tar;
    })());
    if (stored.diffId !== diffId) throw new BerthError('Internal', `pause layer stored as ${stored.diffId}, expected ${diffId}`);
  }
  const { record } = images.registerBuilt({ config, layers: [{ mediaType: MEDIA.ociLayerTar, digest: diffId, size: tar.length }], layerSizes: [binary.length] });
  images.tag(record.id, PAUSE_IMAGE);
  return PAUSE_IMAGE;
}
