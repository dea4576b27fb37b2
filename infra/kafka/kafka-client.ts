import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { KafkaConnection } from '../config/connections-schema.js';
import type { Logger } from '../log/logger.js';

/** A kafkajs client whose own logs go through our structured logger (warn and above). */
export function createKafka(conn: KafkaConnection, log: Logger, clientIdSuffix = ''): Kafka {
  return new Kafka({
    clientId: `${conn.clientId}${clientIdSuffix}`,
    brokers: conn.brokers,
    ssl: conn.ssl,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const fields = { kafka: namespace, ...rest };
        if (level === logLevel.ERROR) log.error(fields, message);
        else if (level === logLevel.WARN) log.warn(fields, message);
        else log.debug(fields, message);
      },
  });
}
