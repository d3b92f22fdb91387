// Go's text/tabwriter as docker's table output uses it (minwidth 10, tabwidth 1, padding 3, ' ',
// no flags): tab-terminated cells of adjacent lines form a column padded to its widest cell; the
// text after a line's last tab belongs to no column.

export interface TabOptions {
  minWidth: number;
  padding: number;
}

export const DOCKER_TABLE: TabOptions = { minWidth: 10, padding: 3 };

// Cells are measured in runes (code points), as Go does. Without surrogates that is the length;
// spreading every cell into an array of characters cost ~5 ms of a 1,000-row `ps -a`.
// A text without any (the usual table) skips the test per cell too.
const SURROGATE = /[\uD800-\uDFFF]/;
const runes = (s: string) => (SURROGATE.test(s) ? [...s].length : s.length);
const units = (s: string) => s.length;

export function tabwrite(text: string, opts: TabOptions = DOCKER_TABLE): string {
  const width = SURROGATE.test(text) ? runes : units;
  const trailing = text.endsWith('\n');
  const lines = (trailing ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  const out: string[] = [];
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      out.push(cells.map((c, j) => (j < cells.length - 1 && j < widths.length ? c + ' '.repeat(Math.max(0, widths[j] - width(c))) : c)).join(''));
    }
  };
  // The elastic-tabstop recursion of Go's Writer.format: a column is a run of lines that have a
  // tab-terminated cell at that index; inside it, the next column is found the same way.
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let w = opts.minWidth;
      for (; i < line1; i++) {
        if (column >= lines[i].length - 1) break;
        w = Math.max(w, width(lines[i][column]) + opts.padding);
      }
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--;
    }
    writeLines(line0, line1);
  };
  if (text !== '') format(0, lines.length);
  return out.join('\n') + (trailing ? '\n' : '');
}
