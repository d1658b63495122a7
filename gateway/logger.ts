/** Structured logs (pino). Never log idNumbers, phones or names: log ids of requests and actors. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'lianqiao' }, redact: ['err.config', 'err.connectionString'] });
}
