// The live view of `labimage dev` and `labimage status -w`: exports (bars, per-region table) and
// templates, looked at again every second. On a terminal it is one screen redrawn in place
// (log-update: it erases the previous frame, wraps and clips to the terminal's size); into a
// file or a pipe each new state is appended whole, under the time it was seen.
import { createLogUpdate } from 'log-update';
import { renderStatus, type StatusDocument } from './status-view.ts';

export interface LiveView {
  /** Stops redrawing, leaving the last frame on the screen. */
  stop(): void;
}

const REFRESH_MS = 1000;

/** Shows what `read` returns now and every second after, until `stop`. */
export function showLive(read: () => StatusDocument, options: { showNamespace: boolean; stream?: NodeJS.WriteStream }): LiveView {
  const stream = options.stream ?? process.stdout;
  let previous = '';
  const draw = stream.isTTY ? createLogUpdate(stream) : undefined;
  const render = () => {
    const frame = renderStatus(read(), { showNamespace: options.showNamespace }).trimEnd();
    if (frame === previous) return;
    previous = frame;
    if (draw) {
      // Long lines are cut, not wrapped, so the per-region table stays a table on a narrow terminal.
      const width = Math.max(20, (stream.columns || 80) - 1);
      draw(frame.split('\n').map((line) => line.slice(0, width)).join('\n'));
    } else {
      stream.write(`--- ${new Date().toISOString()}\n${frame}\n\n`);
    }
  };
  render();
  let timer: NodeJS.Timeout | undefined = setInterval(render, REFRESH_MS);
  return {
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      draw?.done();
    },
  };
}
