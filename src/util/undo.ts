// An undo stack for work that acquires resources one after another: each is registered as it is
// acquired, and one catch undoes them all, newest first. Adding a resource adds one line, not an
// edit to every catch block.
export class Undo {
  private readonly steps: Array<{ what: string; fn: () => unknown }> = [];

  /** Registers how to give back what was just acquired. */
  push(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  /** Something else owns it from now on (e.g. the container's monitor): no undo. */
  release(what: string): void {
    for (let i = this.steps.length - 1; i >= 0; i--) if (this.steps[i].what === what) this.steps.splice(i, 1);
  }

  /** Runs every registered undo, newest first; one failing does not stop the others. */
  async run(): Promise<void> {
    for (const s of this.steps.splice(0).reverse()) {
      try {
        await s.fn();
      } catch {}
    }
  }

  /** Runs body; if it throws, everything registered is undone before the error goes on. */
  async guard<T>(body: () => Promise<T> | T): Promise<T> {
    try {
      return await body();
    } catch (err) {
      await this.run();
      throw err;
    }
  }
}
