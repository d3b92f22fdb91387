// What every compose verb gets: the CLI's context, the project loader, and where its events and
// warnings go (compose.ts makes it; the verbs in compose-*.ts take it).
import type { ComposeEvent } from '../../compose/observe.ts';
import type { Project } from '../../compose/types.ts';
import type { Context } from '../context.ts';

export interface ComposeCtx extends Context {
  load(targets?: string[]): Project;
  emit(e: ComposeEvent): void;
  warn(msg: string): void;
}
