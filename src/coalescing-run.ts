/**
 * Runs `work` one at a time: a `trigger()` while it runs asks for exactly one more run right after,
 * however many triggers came meanwhile. For loops that read "what is there now" (the feed reader,
 * the worker's claims): a trigger is never lost and never piles up.
 */
export class CoalescingRun {
  private current: Promise<void> | undefined;
  private again = false;

  /** @param work must not reject (it handles its own failures). */
  constructor(private readonly work: () => Promise<void>) {}

  trigger(): void {
    if (this.current) {
      this.again = true;
      return;
    }
    this.current = this.work().finally(() => {
      this.current = undefined;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    });
  }

  /** The run under way, if any. */
  get running(): Promise<void> | undefined {
    return this.current;
  }
}
