// docker history's rows: the config's history entries, newest first, each with the size of the
// layer it made (entries marked empty_layer made none; the others take the layers in order).
import type { ImageRecord } from '../core/types.ts';

export interface HistoryRow {
  /** The image's id on the newest row, "<missing>" below it (docker's rows for parents it does not know). */
  id: string;
  created: number; // unix seconds
  createdBy: string;
  size: number;
  comment: string;
  tags: string[] | null;
}

export function imageHistory(rec: ImageRecord, tags: string[] = []): HistoryRow[] {
  const history = rec.config.history?.length ? rec.config.history : rec.layers.map(() => ({}) as NonNullable<ImageRecord['config']['history']>[number]);
  let layer = 0;
  const rows = history.map((h) => {
    const size = h.empty_layer ? 0 : (rec.layerSizes?.[layer] ?? 0);
    if (!h.empty_layer) layer++;
    return { id: '<missing>', created: Math.floor(Date.parse(h.created ?? rec.created) / 1000), createdBy: h.created_by ?? '', size, comment: h.comment ?? '', tags: null as string[] | null };
  });
  rows.reverse();
  if (rows.length) {
    rows[0].id = rec.id;
    rows[0].tags = tags.length ? tags : null;
  }
  return rows;
}
