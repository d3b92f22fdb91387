// Wires the stores together for one state root. Parts are built on first use, so a command
// pays only for what it touches (the CLI starts a process per command).
import * as path from 'node:path';
import { ContentStore } from '../content/store.ts';
import { ImageStore } from '../image/store.ts';
import { detectCgroups, type CgroupDriver } from '../kernel/cgroups.ts';
import { shimSpecialFs } from '../runtime/shim.ts';
import { LayerStore } from '../snapshot/layers.ts';
import { Containers } from './containers.ts';
import { openRoot, type StateRoot } from './root.ts';

export class Engine {
  readonly root: StateRoot;
  private _images?: ImageStore;
  private _containers?: Containers;
  private _cgroups?: CgroupDriver;

  constructor(rootDir: string) {
    this.root = openRoot(rootDir);
  }

  get images(): ImageStore {
    if (!this._images) {
      const content = new ContentStore(path.join(this.root.dir, 'content'));
      const layers = new LayerStore(path.join(this.root.dir, 'layers'), shimSpecialFs);
      this._images = new ImageStore(this.root.dir, content, layers);
    }
    return this._images;
  }

  get cgroups(): CgroupDriver {
    return (this._cgroups ??= detectCgroups(`berth/${this.root.key}`));
  }

  get containers(): Containers {
    return (this._containers ??= new Containers(this.root, this.images, () => this.cgroups));
  }
}
