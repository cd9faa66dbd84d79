import { SERVE_FLAGS, serveConfig } from '../config.js';
import { SigwardError } from '../errors.js';
import { createLogger } from '../log.js';
import { startSigward } from '../main.js';
import { parse, type Io } from './args.js';


/** `sigward serve`: runs the webhook until SIGTERM or SIGINT, then drains in-flight reviews. */
export async function serveCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, SERVE_FLAGS);
  if (positionals.length > 0) throw new SigwardError('USAGE', `serve takes no arguments, got '${positionals.join(' ')}'`);
  const config = serveConfig(values, io.env);
  const logger = createLogger({ level: config.logLevel });
  const sigward = await startSigward(config, logger);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => { resolve('SIGTERM'); });
    process.once('SIGINT', () => { resolve('SIGINT'); });
  });
  logger.info('shutting down', { signal });
  await sigward.close();
  logger.info('stopped');
  return 0;
}
