/**
 * A sleep that can be cut short: loops that wait between attempts (informer relists, lease
 * renewals) must wake at once when the process stops instead of finishing their wait.
 */
export class WakeableSleep {
  #wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
