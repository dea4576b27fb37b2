import { describe, expect, it } from 'vitest';
import {
  KAFKA_COORDINATES,
  renderLog4j2,
  renderServerProperties,
} from '../../../../infra/local/kafka-service.js';

function parseProps(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

describe('renderServerProperties', () => {
  const props = parseProps(renderServerProperties({ port: 29092, controllerPort: 29093, logDir: '/d/data' }));

  it('runs one combined broker+controller on loopback with the configured ports', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:29093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:29092');
    expect(props.get('log.dirs')).toBe('/d/data');
  });

  it('gives every internal topic replication factor 1 and min ISR 1 (one node; kafkajs#1752)', () => {
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('share.coordinator.state.topic.replication.factor')).toBe('1');
    expect(props.get('share.coordinator.state.topic.min.isr')).toBe('1');
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('true');
  });
});

describe('Kafka artifacts and logging', () => {
  it('asks for Kafka 4.1.1 with a log4j2 binding and an slf4j 2 API that can see it', () => {
    expect(KAFKA_COORDINATES).toContain('org.apache.kafka:kafka_2.13:4.1.1');
    expect(KAFKA_COORDINATES.some((c) => c.startsWith('org.apache.logging.log4j:log4j-slf4j2-impl:'))).toBe(
      true,
    );
    expect(KAFKA_COORDINATES.some((c) => c.startsWith('org.slf4j:slf4j-api:2.'))).toBe(true);
  });

  it('logs WARN and above to the given file', () => {
    const text = renderLog4j2('/d/server.log');
    expect(text).toContain('appender.file.fileName = /d/server.log');
    expect(text).toContain('rootLogger.level = WARN');
  });
});
