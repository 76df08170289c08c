// npm run image [-- --tag NAME]: builds the operator image with Docker, or Podman when there is no Docker engine.
import { parseArgs } from 'node:util';
import { buildImage } from './build.ts';
import { findContainerEngine } from './engine.ts';

const { values } = parseArgs({ options: { tag: { type: 'string' } } });
const { engine, missing } = await findContainerEngine();
if (!engine) {
  console.error(missing);
  process.exit(1);
}
try {
  await buildImage({
    engine,
    ...(values.tag ? { image: values.tag } : {}),
    log: (line) => console.log(`== ${line}`),
    onLine: (line) => console.log(line),
  });
} catch (err) {
  console.error(`== ${(err as Error).message}`);
  process.exit(1);
}
