// Turns of the event loop for synchronous work. Wiring a pod is about 1 ms of rtnetlink
// requests that hold the agent's only thread; when an ENI arrives, the 20 pods that waited for
// it resume at once and would wire back to back, 20 ms during which no cloud answer is read and
// no other ADD is taken: in a burst, the next ENI's calls waited behind them. Each taker gets a
// turn of its own, and what became ready before it (I/O, timers) runs first.
export class Turns {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;

  /** Resolves in a turn of the event loop of its own; takers are served in order. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // An immediate queued by an immediate runs after the next poll for I/O, not in this one.
    setImmediate(() => {
      this.scheduled = false;
      this.queue.shift()?.();
      this.schedule();
    });
  }
}
