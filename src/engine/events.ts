// Structured events from the engine (docker's event shape): the API's /events streams them,
// the CLI could render them. In-process only: a subscriber sees what this engine did.
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export class Events {
  private readonly bus = new EventEmitter();

  constructor() {
    this.bus.setMaxListeners(0);
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    if (this.bus.listenerCount('event') === 0) return;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    this.bus.emit('event', { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs) });
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.bus.on('event', fn);
    return () => this.bus.off('event', fn);
  }
}
