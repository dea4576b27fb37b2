import { z } from 'zod';

const port = z.number().int().min(1024, 'is below 1024').max(65535, 'is above 65535');

/** The local stack's ports and folders. Defaults avoid the services' standard ports. */
export const stackConfigSchema = z
  .object({
    /** Downloads (jars, virtualenv, Go binaries), git-ignored. Relative paths resolve against the project root. */
    cacheDir: z.string().min(1).default('.cache'),
    /** Data, logs and pid files of running services, git-ignored. */
    stateDir: z.string().min(1).default('.stack'),
    kafkaPort: port.default(19092),
    kafkaControllerPort: port.default(19093),
    cassandraPort: port.default(19042),
    cassandraStoragePort: port.default(17000),
    awsPort: port.default(15000),
    imdsPort: port.default(11338),
    /** Seconds each service may take to become ready before `stack up` gives up. */
    readyTimeoutSec: z.number().int().positive().default(240),
  })
  .strict()
  .refine(
    (s) =>
      new Set([
        s.kafkaPort,
        s.kafkaControllerPort,
        s.cassandraPort,
        s.cassandraStoragePort,
        s.awsPort,
        s.imdsPort,
      ]).size === 6,
    {
      message: 'ports must all differ',
    },
  );

export type StackConfig = z.infer<typeof stackConfigSchema>;
