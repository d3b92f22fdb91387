// Disk usage as `system df` reports it: images with the size they share with other images and
// the size that is theirs alone, containers' writable layers, volumes. Layers are counted once
// however many images use them.
import { isUp } from '../core/container.ts';
import * as path from 'node:path';
import type { ImageStore } from '../image/store.ts';
import { dirUsage } from '../snapshot/layers.ts';
import type { Container } from './container/types.ts';
import type { VolumeRecord } from './volumes.ts';

export interface ImageUsage {
  id: string;
  names: string[];
  created: string;
  size: number;
  shared: number; // bytes of layers other images use too
  unique: number; // bytes of layers only this image uses
  containers: number;
}

export interface DiskUsage {
  images: ImageUsage[];
  layersSize: number; // every layer once
  reclaimableImages: number; // layers no image in use by a container needs
  containers: Array<{ container: Container; size: number; running: boolean }>;
  volumes: Array<{ volume: VolumeRecord; links: number; size: number }>;
}

/**
 * docker's container sizes: SizeRw, the bytes of its writable layer; SizeRootFs, those and its
 * image's (the image's size as `images` shows it, or its layers' if the image has gone).
 */
export function containerSize(images: ImageStore, c: Container, containersDir: string): { rw: number; rootFs: number } {
  const rw = dirUsage(path.join(containersDir, c.record.Id, 'upper'));
  const image = images.get(c.record.Image)?.size ?? [...new Set(c.record.Layers)].reduce((a, d) => a + images.layerSize(d), 0);
  return { rw, rootFs: rw + image };
}

export function diskUsage(images: ImageStore, containers: Container[], volumes: VolumeRecord[], containersDir: string): DiskUsage {
  const list = images.list();
  const users = new Map<string, number>(); // diff id -> images using it
  const sizes = new Map<string, number>();
  for (const { record } of list) {
    record.layers.forEach((d, i) => {
      users.set(d, (users.get(d) ?? 0) + 1);
      if (!sizes.has(d)) sizes.set(d, record.layerSizes?.[i] ?? images.layers.usage(d));
    });
  }
  const used = new Set(containers.map((c) => c.record.Image));
  const needed = new Set(list.filter((s) => used.has(s.record.id)).flatMap((s) => s.record.layers));
  const imageRows = list.map(({ record, names }) => {
    const layers = [...new Set(record.layers)];
    const shared = layers.filter((d) => (users.get(d) ?? 0) > 1).reduce((a, d) => a + (sizes.get(d) ?? 0), 0);
    const size = layers.reduce((a, d) => a + (sizes.get(d) ?? 0), 0);
    return { id: record.id, names, created: record.created, size, shared, unique: size - shared, containers: containers.filter((c) => c.record.Image === record.id).length };
  });
  let layersSize = 0;
  let reclaimableImages = 0;
  for (const [d, n] of sizes) {
    layersSize += n;
    if (!needed.has(d)) reclaimableImages += n;
  }
  return {
    images: imageRows,
    layersSize,
    reclaimableImages,
    containers: containers.map((c) => ({ container: c, size: dirUsage(path.join(containersDir, c.record.Id, 'upper')), running: isUp(c.state.Status) })),
    volumes: volumes.map((v) => ({
      volume: v,
      links: containers.filter((c) => c.record.HostConfig.Mounts.some((m) => m.Type === 'volume' && m.Source === v.Name)).length,
      size: dirUsage(v.Mountpoint),
    })),
  };
}
